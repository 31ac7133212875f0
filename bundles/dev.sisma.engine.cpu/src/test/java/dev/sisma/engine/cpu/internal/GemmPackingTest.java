package dev.sisma.engine.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

/**
 * The packing paths of {@link Gemm} the conformance suite's small shapes do not reach: A read in
 * place for two column panels or fewer, packed for more, by row blocks for a large packed A; x W^T
 * (B transposed, the in-register 8 x 8 transpose on AVX2) over several K slabs (slab offsets
 * past 0, depths that are not multiples of 8) and column panels with a partial 8-column block;
 * beta and the bias over several slabs.
 */
class GemmPackingTest {
    private static MemorySegment random(Arena arena, int count, long seed) {
        MemorySegment s = arena.allocate(count * 4L, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) s.setAtIndex(Elementwise.F, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    private static void check(Parallel par, boolean ta, boolean tb, int m, int n, int k) {
        check(par, ta, tb, m, n, k, 0f, false);
    }

    private static void check(Parallel par, boolean ta, boolean tb, int m, int n, int k, float beta, boolean withBias) {
        try (Arena arena = Arena.ofShared()) {
            MemorySegment a = random(arena, m * k, 1), b = random(arena, n * k, 2), c = random(arena, m * n, 3);
            MemorySegment bias = withBias ? random(arena, n, 4) : null;
            float[] c0 = c.toArray(Elementwise.F);
            Gemm.gemm(par, ta, tb, 1, m, n, k, 0.5f, a, 0, b, 0, beta, c, bias);
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double want = (beta == 0f ? 0 : beta * c0[i * n + j]) + (bias == null ? 0 : bias.getAtIndex(Elementwise.F, j)), dot = 0;
                    for (int p = 0; p < k; p++) {
                        float x = a.getAtIndex(Elementwise.F, ta ? (long) p * m + i : (long) i * k + p);
                        float y = b.getAtIndex(Elementwise.F, tb ? (long) j * k + p : (long) p * n + j);
                        dot += (double) x * y;
                    }
                    want += 0.5 * dot;
                    float got = c.getAtIndex(Elementwise.F, (long) i * n + j);
                    assertEquals(want, got, 2e-5 * Math.sqrt(k), "C[" + i + "," + j + "] of " + m + "x" + n + "x" + k + " ta=" + ta + " tb=" + tb);
                }
        }
    }

    @Test
    void transposedWeightsAcrossSlabsAndPartialPanels() {
        try (Parallel one = new Parallel(1); Parallel two = new Parallel(2)) {
            // 1026 packed rows put a slab at 3072 of K: the second slab starts at 3072 with depth 1028
            check(one, false, true, 1024, 28, 4100);
            check(two, false, true, 1024, 21, 4100);
            check(two, true, true, 200, 40, 1037);
            check(one, false, true, 5, 8, 7);
            // three panels and more: A packed; a last panel of 44 columns (4-vector tile) and of 24 (2-vector tile)
            check(two, false, true, 100, 300, 700);
            check(one, false, true, 97, 280, 1100, 0.5f, true);
            // 1032 packed rows x 2100 deep: over 2M floats of packed A, row blocks outermost
            check(two, false, true, 1030, 200, 2100, 1f, true);
            // beta and the bias are applied once, with the first K slice of the first slab
            check(two, false, true, 1024, 19, 4100, 0.5f, true);
            check(one, false, false, 1030, 33, 4099, 1f, true);
        }
    }
}
