package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertFalse;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/** The conformance suite with cuBLAS turned off (cublasDir = none): GEMM and the convolutions on the shared sk_gemm kernel. */
class CudaKernelGemmConformanceTest extends BackendConformanceTest {
    private static Object opened;

    @BeforeAll
    static void open() {
        opened = CudaUnderTest.open("none");
    }

    @AfterAll
    static void close() {
        if (opened instanceof CudaBackend b) b.close();
    }

    @Override
    protected Backend backend() {
        CudaBackend b = CudaUnderTest.require(opened);
        assertFalse(b.usesCublas(), "cublasDir = none must keep cuBLAS off");
        return b;
    }

    @Override
    protected double toleranceScale() {
        return 2;
    }
}
