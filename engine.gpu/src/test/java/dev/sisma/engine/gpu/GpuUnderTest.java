package dev.sisma.engine.gpu;

import dev.sisma.engine.spi.Backend;

/** The GPU backend a shared test class (GpuModelTests, GpuGenerateTests) runs on, supplied by each backend's subclass. */
public interface GpuUnderTest {
    /** "OpenCL", "CUDA": for messages. */
    String label();

    /** The name the backend registers under ("opencl", "cuda"). */
    String backendName();

    /** The backend on its default device, or null when there is none (require then says why). */
    Backend openOrNull();

    /** Fails or skips the test when {@code backend} is null, by the backend's rules (CI=true, ...). */
    void require(Backend backend);
}
