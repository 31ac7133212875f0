package dev.sisma.engine;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;

import org.junit.jupiter.api.Test;

/**
 * {@link Ops#attention}: the same values and gradients as the composed path
 * softmax(matmul(q, k^T) scale) v for every way of slicing (one slice, groups of heads, chunks of
 * query rows with a short last chunk, L != S), gradients against finite differences, nothing kept
 * under NoGrad, and a backward whose transient memory is a few slices, not [B, H, L, S].
 */
class AttentionTest {
    private final PlainBackend be = new PlainBackend();
    private final Random rnd = new Random(11);

    private Tensor leaf(int... shape) {
        float[] v = new float[(int) Shape.of(shape).size()];
        for (int i = 0; i < v.length; i++) v[i] = rnd.nextFloat() * 4 - 2; // wide enough for peaked softmax rows
        return Tensor.of(be, v, shape).requiresGrad(true);
    }

    private static Tensor composed(Tensor q, Tensor k, Tensor v, float scale) {
        return Ops.matmul(Ops.softmax(Ops.matmul(q, Ops.transpose(k, -2, -1)).mul(scale)), v);
    }

    private float[] weights(long n) {
        float[] w = new float[(int) n];
        for (int i = 0; i < w.length; i++) w[i] = rnd.nextFloat() * 2 - 1;
        return w;
    }

    /** Runs sum(out * w) backward; returns {out, dq, dk, dv} and clears the leaves' grads. */
    private float[][] run(Tensor out, float[] w, Tensor q, Tensor k, Tensor v) {
        Ops.sum(Ops.mul(out, Tensor.of(be, w, out.shape().dims()))).backward();
        float[][] r = {out.toArray(), q.grad().toArray(), k.grad().toArray(), v.grad().toArray()};
        q.zeroGrad(); k.zeroGrad(); v.zeroGrad();
        return r;
    }

    private static void assertClose(float[] want, float[] got, String what) {
        assertEquals(want.length, got.length, what);
        for (int i = 0; i < want.length; i++)
            if (Math.abs(want[i] - got[i]) > 2e-5 + 2e-5 * Math.abs(want[i]))
                fail(what + "[" + i + "]: composed " + want[i] + " vs attention " + got[i]);
    }

    @Test
    void equalsTheComposedPathForEverySlicing() {
        int[][] shapes = {{2, 3, 5, 7, 4}, {1, 2, 9, 9, 3}, {3, 1, 4, 6, 5}}; // B, H, L, S, Dh
        for (int[] sh : shapes) {
            int b = sh[0], h = sh[1], l = sh[2], s = sh[3], dh = sh[4];
            float scale = (float) (1 / Math.sqrt(dh));
            // one slice; two heads per slice; one head in chunks of 2 rows (short last chunk); 1 row
            long[] slices = {1L << 22, 2L * l * s, 2L * s, 1};
            try (Scope scope = Scope.open()) {
                Tensor q = leaf(b, h, l, dh), k = leaf(b, h, s, dh), v = leaf(b, h, s, dh);
                float[] w = weights((long) b * h * l * dh);
                float[][] want = run(composed(q, k, v, scale), w, q, k, v);
                for (long slice : slices) {
                    float[][] got = run(Ops.attention(q, k, v, scale, slice), w, q, k, v);
                    String at = java.util.Arrays.toString(sh) + " slice " + slice + ": ";
                    assertClose(want[0], got[0], at + "output");
                    assertClose(want[1], got[1], at + "dq");
                    assertClose(want[2], got[2], at + "dk");
                    assertClose(want[3], got[3], at + "dv");
                }
            }
        }
    }

    @Test
    void onlyTheInputsThatWantAGradientGetOne() {
        try (Scope scope = Scope.open()) {
            Tensor q = leaf(1, 2, 3, 4), k = leaf(1, 2, 5, 4).requiresGrad(false), v = leaf(1, 2, 5, 4);
            Ops.sum(Ops.attention(q, k, v, 0.5f, 15)).backward();
            assertNotNull(q.grad());
            assertNotNull(v.grad());
            assertEquals(null, k.grad());
        }
    }

    @Test
    void gradientsMatchFiniteDifferences() {
        int b = 1, h = 2, l = 5, s = 6, dh = 3;
        float scale = 0.7f;
        long slice = 2L * s; // row chunks, so the dK / dV accumulation over chunks is checked too
        try (Scope scope = Scope.open()) {
            Tensor[] in = {leaf(b, h, l, dh), leaf(b, h, s, dh), leaf(b, h, s, dh)};
            float[] w = weights((long) b * h * l * dh);
            Tensor out = Ops.attention(in[0], in[1], in[2], scale, slice);
            Ops.sum(Ops.mul(out, Tensor.of(be, w, out.shape().dims()))).backward();
            for (int which = 0; which < 3; which++) {
                float[] g = in[which].grad().toArray(), x = in[which].toArray();
                for (int j = 0; j < x.length; j++) {
                    float keep = x[j], step = 1e-2f * Math.max(1, Math.abs(keep));
                    x[j] = keep + step;
                    double up = lossWith(in, which, x, w, scale, slice);
                    x[j] = keep - step;
                    double dn = lossWith(in, which, x, w, scale, slice);
                    x[j] = keep;
                    double num = (up - dn) / (2 * step);
                    if (Math.abs(num - g[j]) > 5e-3 + 1e-2 * Math.abs(num))
                        fail("d/d input" + which + "[" + j + "]: autograd " + g[j] + " vs numeric " + num);
                }
            }
        }
    }

    private double lossWith(Tensor[] in, int which, float[] x, float[] w, float scale, long slice) {
        try (NoGrad ng = NoGrad.enter(); Scope s = Scope.open()) {
            Tensor[] t = in.clone();
            t[which] = Tensor.of(be, x, in[which].shape().dims());
            float[] o = Ops.attention(t[0], t[1], t[2], scale, slice).toArray();
            double sum = 0;
            for (int i = 0; i < o.length; i++) sum += (double) o[i] * w[i];
            return sum;
        }
    }

    @Test
    void inferenceKeepsNothingButTheOutput() {
        try (Scope scope = Scope.open()) {
            Tensor q = leaf(1, 2, 8, 4), k = leaf(1, 2, 8, 4), v = leaf(1, 2, 8, 4);
            long before = be.liveFloats;
            try (NoGrad ng = NoGrad.enter()) {
                Tensor y = Ops.attention(q, k, v, 0.5f, 16);
                assertFalse(y.requiresGrad(), "no tape under NoGrad");
                assertEquals(before + y.size(), be.liveFloats, "only the output is left");
            }
        }
    }

    @Test
    void backwardMemoryIsAFewSlicesNotTheScoreTensor() {
        int b = 1, h = 2, l = 128, s = 128, dh = 4;
        long slice = 8L * s, io = (long) b * h * l * dh;  // 8 query rows per slice
        // [B, H, L, Dh]-sized tensors (output, loss weights and their product, dO, dQ, dK, dV, per-head
        // copies of k, v, dK, dV) are about 10 io; the score slices P and dP are 2; everything else is small
        long bound = 12 * io + 3 * slice, scores = (long) b * h * l * s;
        try (Scope scope = Scope.open()) {
            Tensor q = leaf(b, h, l, dh), k = leaf(b, h, s, dh), v = leaf(b, h, s, dh);
            float[] w = weights(io);
            long base = be.liveFloats;
            be.resetPeak();
            run(Ops.attention(q, k, v, 0.5f, slice), w, q, k, v);
            long sliced = be.peakFloats - base;
            be.resetPeak();
            base = be.liveFloats;
            run(composed(q, k, v, 0.5f), w, q, k, v);
            long full = be.peakFloats - base;
            assertTrue(sliced <= bound, "attention peaked at " + sliced + " floats, bound " + bound);
            assertTrue(full >= 2 * scores, "the composed path keeps scores and probabilities: " + full);
        }
    }

    @Test
    void mismatchedShapesAreRejected() {
        try (Scope scope = Scope.open()) {
            Tensor q = leaf(1, 2, 3, 4), k = leaf(1, 2, 5, 4), v = leaf(1, 2, 5, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.attention(q, k, v, 1f));
            assertTrue(e.getMessage().startsWith("attention: q [1, 2, 3, 4]"), e.getMessage());
        }
    }
}
