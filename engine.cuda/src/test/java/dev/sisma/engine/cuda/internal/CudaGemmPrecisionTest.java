package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.DeviceBuffer;

/**
 * The precision setting reaches cuBLAS on a GPU: a 384 x 320 x 512 product (k large enough for the
 * product's rounding to show) against a double-precision reference, as max |c - ref| / max |ref|:
 * fp32 below 1e-5; tf32 (10-bit mantissa products) and bf16 (7-bit) measurably less exact than fp32
 * (so the tensor-core path really ran) yet within 5e-3 and 3e-2. Skips without a GPU (CudaUnderTest)
 * or without libcuBLAS (then every precision is the FP32 kernel, which the conformance suites cover).
 */
class CudaGemmPrecisionTest {
    private static final int M = 384, N = 320, K = 512;

    private static double relError(GemmPrecision p, float[] a, float[] b, double[] ref) {
        try (CudaBackend be = CudaUnderTest.require(CudaUnderTest.open(p, CudaUnderTest.cublasDir()))) {
            Assumptions.assumeTrue(be.usesCublas(), "no libcublas: " + be.device());
            try (DeviceBuffer da = be.upload(a); DeviceBuffer db = be.upload(b); DeviceBuffer dc = be.allocate((long) M * N)) {
                be.gemm(false, false, 1, M, N, K, 1f, da, 0, db, 0, 0f, dc, null);
                float[] c = new float[M * N];
                be.download(dc, 0, c, 0, c.length);
                double diff = 0, max = 0;
                for (int i = 0; i < c.length; i++) {
                    diff = Math.max(diff, Math.abs(c[i] - ref[i]));
                    max = Math.max(max, Math.abs(ref[i]));
                }
                return diff / max;
            }
        }
    }

    @Test
    void eachPrecisionHasItsAccuracy() {
        Random r = new Random(11);
        float[] a = new float[M * K], b = new float[K * N];
        for (int i = 0; i < a.length; i++) a[i] = (float) r.nextGaussian();
        for (int i = 0; i < b.length; i++) b[i] = (float) r.nextGaussian();
        double[] ref = new double[M * N];
        for (int i = 0; i < M; i++) {
            for (int l = 0; l < K; l++) {
                double x = a[i * K + l];
                for (int j = 0; j < N; j++) ref[i * N + j] += x * b[l * N + j];
            }
        }
        double fp32 = relError(GemmPrecision.FP32, a, b, ref), tf32 = relError(GemmPrecision.TF32, a, b, ref),
                bf16 = relError(GemmPrecision.BF16, a, b, ref);
        System.out.printf("cuBLAS relative error: fp32 %.2e, tf32 %.2e, bf16 %.2e%n", fp32, tf32, bf16);
        assertTrue(fp32 < 1e-5, "fp32 " + fp32);
        assertTrue(tf32 > 4 * fp32 && tf32 < 5e-3, "tf32 " + tf32 + " (fp32 " + fp32 + ")");
        assertTrue(bf16 > 4 * fp32 && bf16 < 3e-2, "bf16 " + bf16 + " (fp32 " + fp32 + ")");
    }
}
