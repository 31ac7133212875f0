package dev.sisma.engine.opencl.internal;

import dev.sisma.engine.gpu.GpuUnderTest;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.RuntimeRequirement;

/** The OpenCL backend for the shared GPU tests: the default device; absent, it fails under CI=true and skips elsewhere. */
interface OpenClUnderTest extends GpuUnderTest {
    @Override
    default String label() {
        return "OpenCL";
    }

    @Override
    default String backendName() {
        return "opencl";
    }

    @Override
    default Backend openOrNull() {
        try {
            return OpenClBackend.open(-1, -1);
        } catch (ClRuntime.Unavailable | LinkageError e) {
            return null; // reported by require()
        }
    }

    @Override
    default void require(Backend backend) {
        RuntimeRequirement.require(backend != null, "an OpenCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1)");
    }
}
