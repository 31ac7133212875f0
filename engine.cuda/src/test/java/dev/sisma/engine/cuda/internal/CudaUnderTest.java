package dev.sisma.engine.cuda.internal;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

import dev.sisma.engine.gpu.GpuUnderTest;
import dev.sisma.engine.spi.Backend;

/**
 * The CUDA backend for the tests: device 0, FP32 GEMM, cuBLAS from {@code -Dsisma.cuda.cublasDir}
 * (or the default search; {@code none}: the sk_gemm kernel). CUDA is the one backend whose tests
 * may skip, also under CI=true, and only for the one reason that the machine has no CUDA driver
 * or no GPU; any other failure to open (kernels missing from the build, a module that does not
 * load) fails the test. {@code SISMA_REQUIRE_CUDA=true} (set by gpu-check.sh) fails on a missing GPU too.
 */
interface CudaUnderTest extends GpuUnderTest {
    /** Opens the backend under test (FP32), or returns the reason it cannot be opened. */
    static Object open(String cublasDir) {
        return open(GemmPrecision.FP32, cublasDir);
    }

    /** Opens device 0 at {@code precision}, or returns the reason it cannot be opened. */
    static Object open(GemmPrecision precision, String cublasDir) {
        try {
            return CudaBackend.open(0, false, precision, cublasDir);
        } catch (CuRuntime.Unavailable e) {
            return e;
        } catch (LinkageError e) {
            return new CuRuntime.Unavailable("JCuda did not load: " + e, false);
        }
    }

    /** Skips (no driver, no GPU) or fails (anything else) unless {@code opened} is a backend. */
    static CudaBackend require(Object opened) {
        if (opened instanceof CudaBackend b) return b;
        CuRuntime.Unavailable u = (CuRuntime.Unavailable) opened;
        if (u.noHardware && !"true".equalsIgnoreCase(System.getenv("SISMA_REQUIRE_CUDA"))) {
            Assumptions.abort("no CUDA GPU, test skipped: " + u.getMessage());
        }
        return Assertions.fail("the CUDA backend did not open: " + u.getMessage());
    }

    static String cublasDir() {
        return System.getProperty("sisma.cuda.cublasDir", "");
    }

    @Override
    default String label() {
        return "CUDA";
    }

    @Override
    default String backendName() {
        return "cuda";
    }

    @Override
    default Backend openOrNull() {
        return open(cublasDir()) instanceof CudaBackend b ? b : null;
    }

    @Override
    default void require(Backend backend) {
        if (backend == null) require(open(cublasDir()));
    }
}
