package dev.sisma.engine.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.testkit.Reference;

/**
 * The GEMM's packed-weight cache: a weight packed once gives the same bits as per-call packing
 * (same kernel, same summation order) and the right product (a double-precision reference), over
 * odd M/N/K tails, both transposes, a batch sharing one B (stride 0), beta and the bias; a write
 * to the weight through the backend invalidates the pack; closing the weight gives its bytes back;
 * a budget too small packs nothing and changes no result.
 */
class PackedWeightsTest {
    private static CpuBuffer random(long count, long seed) {
        CpuBuffer b = CpuBuffer.allocate(count);
        MemorySegment s = b.segment();
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) s.setAtIndex(Elementwise.F, i, (float) (r.nextDouble() * 2 - 1));
        return b;
    }

    /** C for every batch of A from the test kit's double-precision reference (B shared by the batch: stride 0). */
    private static float[] reference(boolean ta, boolean tb, int batch, int m, int n, int k, float alpha, MemorySegment a,
                                     MemorySegment b, float beta, float[] c0, MemorySegment bias) {
        double[] want = Reference.gemm(ta, tb, batch, m, n, k, alpha, doubles(a), (long) m * k, doubles(b), 0, beta, doubles(c0),
                bias == null ? null : doubles(bias));
        float[] out = new float[want.length];
        for (int i = 0; i < out.length; i++) out[i] = (float) want[i];
        return out;
    }

    private static double[] doubles(MemorySegment s) {
        return doubles(s.toArray(Elementwise.F));
    }

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) d[i] = f[i];
        return d;
    }

    private static void assertClose(float[] want, float[] got, int k, String what) {
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 2e-5 * Math.sqrt(k) + 1e-6 * Math.abs(want[i]), what + " at " + i);
    }

    /** Three calls with one weight: seen, packed, reused; all equal bit for bit and right. */
    private static void check(Parallel par, boolean ta, boolean tb, int batch, int m, int n, int k, float beta, boolean withBias) {
        PackedWeights weights = new PackedWeights(1L << 30);
        String what = batch + "x" + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb + " beta=" + beta + " bias=" + withBias;
        try (CpuBuffer a = random((long) batch * m * k, 1); CpuBuffer w = random((long) n * k, 2); CpuBuffer c = random((long) batch * m * n, 3);
             CpuBuffer bias = withBias ? random(n, 4) : null) {
            float[] c0 = c.segment().toArray(Elementwise.F), w0 = w.segment().toArray(Elementwise.F), first = null;
            float[] want = reference(ta, tb, batch, m, n, k, 0.75f, a.segment(), w.segment(), beta, c0, bias == null ? null : bias.segment());
            for (int call = 0; call < 3; call++) {
                MemorySegment.copy(c0, 0, c.segment(), Elementwise.F, 0, c0.length);
                Gemm.gemm(par, ta, tb, batch, m, n, k, 0.75f, a.segment(), (long) m * k, w, 0, beta, c.segment(),
                        bias == null ? null : bias.segment(), weights);
                float[] got = c.segment().toArray(Elementwise.F);
                if (call == 0) {
                    assertClose(want, got, k, what);
                    first = got;
                    assertEquals(0, weights.usedBytes(), "packed on first sight: " + what);
                } else {
                    assertArrayEquals(first, got, "cached pack differs from per-call packing, call " + call + ": " + what);
                    if (tb && !ta && m <= Gemm.SMALL_M) assertEquals(0, weights.usedBytes(), "a few rows read W directly: " + what);
                    else assertTrue(weights.usedBytes() >= 4L * n * k, "not packed on the second call: " + what);
                }
            }
            // any other use unpacks it for good, to the very values it had; the next GEMMs pack it anew
            float[] wv = w0.clone();
            assertArrayEquals(wv, w.segment().toArray(Elementwise.F), "values after unpacking: " + what);
            assertEquals(0, weights.usedBytes(), "pack kept after unpacking: " + what);
            for (int call = 0; call < 3; call++) {
                MemorySegment.copy(c0, 0, c.segment(), Elementwise.F, 0, c0.length);
                Gemm.gemm(par, ta, tb, batch, m, n, k, 0.75f, a.segment(), (long) m * k, w, 0, beta, c.segment(),
                        bias == null ? null : bias.segment(), weights);
                assertArrayEquals(first, c.segment().toArray(Elementwise.F), "after unpacking, call " + call + ": " + what);
            }
            w.close();
            assertEquals(0, weights.usedBytes(), "bytes kept after the weight closed: " + what);
        }
    }

    @Test
    void packedWeightEqualsPerCallPackingOverTailsTransposesAndBatches() {
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            check(one, false, true, 1, 1, 1, 1, 0f, false);
            check(one, false, true, 1, 7, 47, 5, 0f, true);
            check(two, false, true, 1, 33, 97, 257, 0.5f, true);
            check(two, false, true, 1, 2, 200, 1031, 0f, true); // a few rows (adaLN): dot products
            check(two, false, true, 2, 4, 37, 70, 0.5f, true);
            check(one, false, true, 1, 5, 37, 70, 0f, true); // one row past them: the packed kernel
            check(two, true, true, 1, 19, 49, 64, 1f, false);
            check(one, false, false, 1, 9, 50, 33, 0f, true);
            check(two, true, false, 1, 17, 16, 300, 0.25f, false);
            check(two, false, true, 3, 13, 65, 129, 0f, true); // batch sharing one weight: stride 0
            check(two, false, true, 1, 300, 96, 4100, 0f, false); // several K slabs
            check(two, false, true, 1, 1200, 150, 4100, 0.5f, true); // a packed A over 2M floats: row blocks outermost, the pack read from slab offset 3072
        }
    }

    @Test
    void aWriteToTheWeightInvalidatesItsPack() {
        int m = 20, n = 50, k = 70;
        PackedWeights weights = new PackedWeights(1L << 30);
        try (Parallel par = new Parallel(2); CpuBuffer a = random((long) m * k, 5); CpuBuffer w = random((long) n * k, 6);
             CpuBuffer c = CpuBuffer.allocate((long) m * n)) {
            for (int call = 0; call < 3; call++) Gemm.gemm(par, false, true, 1, m, n, k, 1f, a.segment(), 0, w, 0, 0f, c.segment(), null, weights);
            assertTrue(weights.usedBytes() > 0);
            // a training update, as the backend's ops write: through the segment
            Elementwise.fill(par, w.segment().asSlice(4L * 3 * k, 4L * k), k, 0.25f);
            Gemm.gemm(par, false, true, 1, m, n, k, 1f, a.segment(), 0, w, 0, 0f, c.segment(), null, weights);
            assertClose(reference(false, true, 1, m, n, k, 1f, a.segment(), w.segment(), 0f, new float[m * n], null),
                    c.segment().toArray(Elementwise.F), k, "after the weight changed");
            assertEquals(0, weights.usedBytes(), "the stale pack is still held");
        }
    }

    @Test
    void overBudgetPacksPerCall() {
        int m = 10, n = 60, k = 40;
        PackedWeights weights = new PackedWeights(4L * n * k - 1);
        try (Parallel par = new Parallel(1); CpuBuffer a = random((long) m * k, 7); CpuBuffer w = random((long) n * k, 8);
             CpuBuffer c = CpuBuffer.allocate((long) m * n)) {
            float[] want = reference(false, true, 1, m, n, k, 1f, a.segment(), w.segment(), 0f, new float[m * n], null);
            for (int call = 0; call < 3; call++) {
                Gemm.gemm(par, false, true, 1, m, n, k, 1f, a.segment(), 0, w, 0, 0f, c.segment(), null, weights);
                assertClose(want, c.segment().toArray(Elementwise.F), k, "call " + call);
            }
            assertEquals(0, weights.usedBytes());
        }
    }
}
