package dev.sisma.engine.opencl.internal;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;
import dev.sisma.engine.testkit.RuntimeRequirement;

/**
 * The shared conformance suite on the OpenCL backend (PoCL in CI). Without an OpenCL device the
 * suite fails under CI=true and is skipped elsewhere (RuntimeRequirement). One device for all tests:
 * opening compiles the kernels (seconds on PoCL the first time; PoCL caches them).
 */
class OpenClConformanceTest extends BackendConformanceTest {
    private static OpenClBackend backend;
    private static String missing;

    @BeforeAll
    static void open() {
        try {
            backend = OpenClBackend.open(-1, -1);
        } catch (ClRuntime.Unavailable | LinkageError e) {
            missing = e.getMessage();
        }
    }

    @AfterAll
    static void close() {
        if (backend != null) backend.close();
    }

    @Override
    protected Backend backend() {
        RuntimeRequirement.require(backend != null, "an OpenCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1): " + missing);
        return backend;
    }

    /** fma in the GEMM and a different summation order than the CPU backend: allow twice the CPU's slack. */
    @Override
    protected double toleranceScale() {
        return 2;
    }
}
