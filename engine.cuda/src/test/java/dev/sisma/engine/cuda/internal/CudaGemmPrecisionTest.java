package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sisma.engine.spi.DeviceBuffer;

/**
 * The precision setting reaches the GEMM on a GPU, on cuBLAS (skipped without libcublas) and on the
 * kernels (cublasDir = none: sk_gemm at fp32, the tensor-core sk_gemm_tf32 / sk_gemm_bf16 of
 * gemm_tc.cl otherwise). Error = max |c - ref| / max |ref| against a double-precision reference:
 * fp32 below 1e-5; tf32 (10-bit mantissa products) and bf16 (7-bit) measurably less exact than fp32
 * (so the tensor cores really ran) yet within 5e-3 and 3e-2. The tensor-core kernels are also checked
 * at every transpose pair, odd sizes (partial tiles), a batch with a shared operand, beta and a bias.
 * Skips without a GPU (CudaUnderTest).
 */
class CudaGemmPrecisionTest {
    private static final double[] BOUND = {1e-5, 5e-3, 3e-2}; // by GemmPrecision ordinal

    private static float[] gaussian(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) r.nextGaussian();
        return v;
    }

    /** Row-major C[p] = alpha op(A[p]) op(B[p]) + beta C[p] + bias, in double. */
    private static double[] reference(boolean ta, boolean tb, int batch, int m, int n, int k, float alpha, float[] a, long sa,
                                      float[] b, long sb, float beta, float[] c, float[] bias) {
        double[] out = new double[batch * m * n];
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        s += (double) (ta ? a[(int) (p * sa) + l * m + i] : a[(int) (p * sa) + i * k + l])
                                * (tb ? b[(int) (p * sb) + j * k + l] : b[(int) (p * sb) + l * n + j]);
                    }
                    int o = (p * m + i) * n + j;
                    out[o] = alpha * s + beta * c[o] + (bias == null ? 0 : bias[j]);
                }
            }
        }
        return out;
    }

    /** The GEMM on a fresh backend at {@code precision}: max |c - ref| / max |ref|. */
    private static double error(GemmPrecision precision, String cublasDir, boolean ta, boolean tb, int batch, int m, int n, int k,
                                float alpha, float[] a, long sa, float[] b, long sb, float beta, float[] c, float[] bias) {
        double[] ref = reference(ta, tb, batch, m, n, k, alpha, a, sa, b, sb, beta, c, bias);
        try (CudaBackend be = CudaUnderTest.require(CudaUnderTest.open(precision, cublasDir))) {
            Assumptions.assumeTrue(be.usesCublas() || cublasDir.equals("none"), "no libcublas: " + be.device());
            try (DeviceBuffer da = be.upload(a); DeviceBuffer db = be.upload(b); DeviceBuffer dc = be.upload(c);
                 DeviceBuffer dbias = bias == null ? null : be.upload(bias)) {
                be.gemm(ta, tb, batch, m, n, k, alpha, da, sa, db, sb, beta, dc, dbias);
                float[] got = new float[c.length];
                be.download(dc, 0, got, 0, got.length);
                double diff = 0, max = 0;
                for (int i = 0; i < got.length; i++) {
                    diff = Math.max(diff, Math.abs(got[i] - ref[i]));
                    max = Math.max(max, Math.abs(ref[i]));
                }
                return diff / max;
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"cublas", "kernels"})
    void eachPrecisionHasItsAccuracy(String path) {
        String dir = path.equals("kernels") ? "none" : CudaUnderTest.cublasDir();
        int m = 384, n = 320, k = 512;
        Random r = new Random(11);
        float[] a = gaussian(r, m * k), b = gaussian(r, k * n), c = new float[m * n];
        double[] e = new double[3];
        for (GemmPrecision p : GemmPrecision.values()) {
            e[p.ordinal()] = error(p, dir, false, false, 1, m, n, k, 1f, a, 0, b, 0, 0f, c, null);
        }
        System.out.printf("%s: relative error fp32 %.2e, tf32 %.2e, bf16 %.2e%n", path, e[0], e[1], e[2]);
        assertTrue(e[0] < BOUND[0], "fp32 " + e[0]);
        for (GemmPrecision p : new GemmPrecision[] {GemmPrecision.TF32, GemmPrecision.BF16}) {
            double x = e[p.ordinal()];
            assertTrue(x > 4 * e[0] && x < BOUND[p.ordinal()], p + " " + x + " (fp32 " + e[0] + ")");
        }
    }

    @Test
    void tensorCoreKernelsHandleTransposesEdgesBatchesBetaAndBias() {
        Random r = new Random(5);
        int batch = 2, m = 70, n = 45, k = 37;
        for (GemmPrecision p : new GemmPrecision[] {GemmPrecision.TF32, GemmPrecision.BF16}) {
            for (int t = 0; t < 4; t++) {
                boolean ta = (t & 1) != 0, tb = (t & 2) != 0, sharedB = t == 3;
                long sa = (long) m * k, sb = sharedB ? 0 : (long) k * n;
                float[] a = gaussian(r, (int) sa * batch), b = gaussian(r, k * n * (sharedB ? 1 : batch)),
                        c = gaussian(r, batch * m * n), bias = t == 1 ? null : gaussian(r, n);
                double e = error(p, "none", ta, tb, batch, m, n, k, 0.75f, a, sa, b, sb, t == 2 ? 0f : 0.5f, c, bias);
                assertTrue(e < BOUND[p.ordinal()], p + " transA " + ta + " transB " + tb + ": " + e);
            }
        }
    }
}
