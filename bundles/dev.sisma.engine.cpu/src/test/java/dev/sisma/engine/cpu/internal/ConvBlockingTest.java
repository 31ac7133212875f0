package dev.sisma.engine.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.Conv2dShape;

/** The forward conv computed in blocks of output pixels (block edges inside and across output lines) equals the one-block result. */
class ConvBlockingTest {
    private static MemorySegment random(Arena arena, long count, long seed) {
        MemorySegment s = arena.allocate(count * 4L, 64);
        SplittableRandom r = new SplittableRandom(seed);
        for (long i = 0; i < count; i++) s.setAtIndex(Elementwise.F, i, (float) (r.nextDouble() * 2 - 1));
        return s;
    }

    @Test
    void blocksOfAnySizeGiveTheSameOutput() {
        // n, cin, h, w, cout, k, k, stride, padding
        int[][] cases = {{2, 3, 9, 7, 5, 3, 3, 1, 1}, {1, 4, 11, 10, 3, 3, 3, 2, 1}, {2, 2, 6, 6, 4, 1, 1, 1, 0}, {1, 2, 5, 8, 3, 3, 3, 2, 2}};
        try (Parallel par = new Parallel(2); Arena arena = Arena.ofConfined()) {
            for (int[] c : cases) {
                Conv2dShape g = new Conv2dShape(c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7], c[8]);
                int hw = g.outH() * g.outW();
                long ySize = (long) g.n() * g.cout() * hw;
                MemorySegment x = random(arena, (long) g.n() * g.cin() * g.h() * g.w(), 1);
                MemorySegment w = random(arena, (long) g.cout() * g.cin() * g.kh() * g.kw(), 2);
                MemorySegment bias = random(arena, g.cout(), 3);
                for (MemorySegment b : new MemorySegment[] {bias, null}) {
                    MemorySegment whole = arena.allocate(ySize * 4, 64);
                    Kernels.conv2d(par, x, w, b, whole, g, hw);
                    for (int block : new int[] {1, 3, g.outW(), g.outW() + 1, hw - 1}) {
                        MemorySegment y = random(arena, ySize, 4); // stale values must all be overwritten
                        Kernels.conv2d(par, x, w, b, y, g, block);
                        for (long i = 0; i < ySize; i++) {
                            assertEquals(whole.getAtIndex(Elementwise.F, i), y.getAtIndex(Elementwise.F, i), 1e-6f,
                                    g + " block " + block + " bias " + (b != null) + " at " + i);
                        }
                    }
                }
            }
        }
    }
}
