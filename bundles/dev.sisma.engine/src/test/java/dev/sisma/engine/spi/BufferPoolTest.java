package dev.sisma.engine.spi;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

class BufferPoolTest {
    /** Blocks are long[] {bytes}; released ones are recorded. */
    static final class Counting implements BufferPool.Memory<long[]> {
        final List<long[]> released = new ArrayList<>();

        @Override
        public long[] create(long bytes) {
            return new long[] {bytes};
        }

        @Override
        public void release(long[] block) {
            released.add(block);
        }
    }

    @Test
    void sizeClassesRoundUpWithLittleSlack() {
        assertEquals(256, BufferPool.sizeClass(0));
        assertEquals(256, BufferPool.sizeClass(1));
        assertEquals(512, BufferPool.sizeClass(257));
        assertEquals(1 << 20, BufferPool.sizeClass(1 << 20));
        for (long f = (1 << 20) + 1; f < (1L << 34); f = f * 3 / 2 + 7) {
            long c = BufferPool.sizeClass(f);
            assertTrue(c >= f && c <= f + f / 16 + 1, f + " -> " + c);
            assertEquals(c, BufferPool.sizeClass(c), "a class is its own class");
        }
    }

    @Test
    void aDiscardedBlockIsReleasedNotKept() {
        Counting mem = new Counting();
        BufferPool<long[]> pool = new BufferPool<>(mem, 1L << 30);
        long[] a = pool.take(1024), b = pool.take(1024);
        pool.discard(a, 1024);
        assertEquals(List.of(a), mem.released);
        assertEquals(4 * 1024, pool.liveBytes());
        assertEquals(0, pool.freeBytes());
        pool.give(b, 1024);
        assertSame(b, pool.take(1024), "a given block is kept, the discarded one is not");
    }

    @Test
    void aRepeatedPatternCreatesNothingAfterTheFirstRound() {
        Counting mem = new Counting();
        BufferPool<long[]> pool = new BufferPool<>(mem, 1L << 30);
        long[] sizes = {256, 1024, 256, 4096};
        for (int round = 0; round < 5; round++) {
            List<long[]> taken = new ArrayList<>();
            for (long s : sizes) taken.add(pool.take(s));
            assertEquals(4 * (256 + 1024 + 256 + 4096), pool.liveBytes());
            for (int i = 0; i < sizes.length; i++) pool.give(taken.get(i), sizes[i]);
        }
        assertEquals(4, pool.created());
        assertEquals(16, pool.reused());
        assertEquals(0, pool.liveBytes());
        assertEquals(4 * (256 + 1024 + 256 + 4096), pool.freeBytes());
        assertTrue(mem.released.isEmpty());
    }

    @Test
    void keepsAtMostTheLimitReleasingTheLeastRecentlyUsedClassFirst() {
        Counting mem = new Counting();
        BufferPool<long[]> pool = new BufferPool<>(mem, 4 * 1024);
        long[] small = pool.take(256), big = pool.take(1024);
        pool.give(small, 256); // 1 KiB pooled
        pool.give(big, 1024);  // 5 KiB: over the 4 KiB limit, the small class (least recent) goes
        assertEquals(1, mem.released.size());
        assertSame(small, mem.released.get(0));
        assertEquals(4 * 1024, pool.freeBytes());
        assertSame(big, pool.take(1024));
        assertNotSame(small, pool.take(256));
    }

    @Test
    void closeReleasesTheFreeBlocksAndEveryBlockGivenBackLater() {
        Counting mem = new Counting();
        BufferPool<long[]> pool = new BufferPool<>(mem, 1L << 30);
        long[] a = pool.take(256), b = pool.take(256);
        pool.give(a, 256);
        pool.close();
        assertEquals(List.of(a), mem.released);
        pool.give(b, 256);
        assertEquals(List.of(a, b), mem.released);
        assertEquals(0, pool.freeBytes());
        assertEquals(0, pool.liveBytes());
    }

    @Test
    void runningOutOfMemoryReleasesTheFreeBlocksAndTriesOnceMore() {
        long[] capacityBytes = {3 * 1024};
        List<long[]> live = new ArrayList<>();
        BufferPool.Memory<long[]> bounded = new BufferPool.Memory<>() {
            long used;

            @Override
            public long[] create(long bytes) {
                if (used + bytes > capacityBytes[0]) throw new OutOfMemoryError("test memory full");
                used += bytes;
                return new long[] {bytes};
            }

            @Override
            public void release(long[] block) {
                used -= block[0];
            }
        };
        BufferPool<long[]> pool = new BufferPool<>(bounded, 1L << 30);
        long[] a = pool.take(256), b = pool.take(256);
        pool.give(a, 256);
        pool.give(b, 256);           // 2 KiB free, 2 KiB used of 3
        live.add(pool.take(512));   // 2 KiB more: only fits once the free blocks go
        assertEquals(0, pool.freeBytes());
        assertEquals(2048, pool.liveBytes());
        capacityBytes[0] = 0;
        assertThrows(OutOfMemoryError.class, () -> pool.take(256)); // nothing left to release: the error stands
    }
}
