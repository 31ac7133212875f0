package dev.sisma.engine.cuda.internal;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/**
 * The shared conformance suite on the CUDA backend, GEMM on cuBLAS (FP32) where its library is
 * found (see CudaKernelGemmConformanceTest for the sk_gemm kernel). Skips only without a CUDA
 * driver or GPU (CudaUnderTest).
 */
class CudaConformanceTest extends BackendConformanceTest {
    private static Object opened;

    @BeforeAll
    static void open() {
        opened = CudaUnderTest.open(CudaUnderTest.cublasDir());
    }

    @AfterAll
    static void close() {
        if (opened instanceof CudaBackend b) b.close();
    }

    @Override
    protected Backend backend() {
        return CudaUnderTest.require(opened);
    }

    /** fma and other summation orders than the CPU backend's (as on OpenCL): twice the CPU's slack. */
    @Override
    protected double toleranceScale() {
        return 2;
    }
}
