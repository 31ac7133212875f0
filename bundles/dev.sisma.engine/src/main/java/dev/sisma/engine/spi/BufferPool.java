package dev.sisma.engine.spi;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Backend memory recycled by size class, for backends to build {@link Backend#allocate} on: a
 * denoising loop or a training step allocates the same shapes every step, so after the first one
 * it stops creating and releasing memory (clCreateBuffer, cuMemAlloc, or on the CPU an off-heap
 * arena whose close is a handshake with every thread). Sizes round up to 256 floats (1 KiB) below
 * 1 Mi floats and to 1/16 of the power of two above (at most 6% slack). Free blocks are kept up
 * to {@code limitBytes}, the least recently returned size class released first. After
 * {@link #close()} returned blocks are released at once. When creating a block runs out of memory
 * ({@link OutOfMemoryError}), the free blocks are released and the creation tried once more.
 * Thread-safe.
 *
 * @param <M> the backend's handle of one block of memory
 */
public final class BufferPool<M> {
    /** How the backend creates and releases one block of memory. */
    public interface Memory<M> {
        /** A new block of {@code bytes} bytes (zeroed or not: {@link BufferPool#take} does not promise either). */
        M create(long bytes);

        /** Frees a block; must not throw. */
        void release(M block);
    }

    private final Memory<M> memory;
    private final long limitBytes;
    /** Size class (floats) to free blocks; access order = least recently used class first. */
    private final LinkedHashMap<Long, ArrayDeque<M>> free = new LinkedHashMap<>(16, 0.75f, true);
    private long freeBytes, liveBytes, created, reused;
    private boolean closed;

    public BufferPool(Memory<M> memory, long limitBytes) {
        this.memory = memory;
        this.limitBytes = limitBytes;
    }

    /** The capacity, in floats, of the block that holds {@code floats} floats. */
    public static long sizeClass(long floats) {
        long f = Math.max(1, floats);
        if (f <= (1L << 20)) return (f + 255) & ~255L;
        long step = Long.highestOneBit(f) >> 4;
        return (f + step - 1) / step * step;
    }

    /** A block of {@code capacity} floats (a {@link #sizeClass}), pooled or new; its contents are undefined. */
    public M take(long capacity) {
        synchronized (this) {
            ArrayDeque<M> q = free.get(capacity);
            if (q != null && !q.isEmpty()) {
                freeBytes -= capacity * 4;
                liveBytes += capacity * 4;
                reused++;
                return q.pop();
            }
        }
        M m; // created outside the lock: creating may trim this pool and retry
        try {
            m = memory.create(capacity * 4);
        } catch (OutOfMemoryError e) {
            if (trim(0) == 0) throw e; // the free blocks were holding the memory: give it back, once
            m = memory.create(capacity * 4);
        }
        synchronized (this) {
            liveBytes += capacity * 4;
            created++;
        }
        return m;
    }

    /** Returns a block taken with {@code capacity}; it is kept for reuse or released. */
    public void give(M block, long capacity) {
        boolean release;
        synchronized (this) {
            liveBytes -= capacity * 4;
            release = closed;
            if (!release) {
                free.computeIfAbsent(capacity, c -> new ArrayDeque<>()).push(block);
                freeBytes += capacity * 4;
            }
        }
        if (release) memory.release(block);
        else trim(limitBytes);
    }

    /**
     * Frees a block taken with {@code capacity} at once instead of keeping it for reuse: for memory
     * the caller knows is not wanted again soon (the CPU backend's weight packed in place, whose
     * float32 block would otherwise stay resident in the pool).
     */
    public void discard(M block, long capacity) {
        synchronized (this) {
            liveBytes -= capacity * 4;
        }
        memory.release(block);
    }

    /** Releases free blocks until at most {@code keepBytes} stay pooled; returns the bytes released. */
    public long trim(long keepBytes) {
        long released = 0;
        List<M> toRelease = new ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<Long, ArrayDeque<M>>> it = free.entrySet().iterator();
            while (freeBytes > keepBytes && it.hasNext()) {
                Map.Entry<Long, ArrayDeque<M>> e = it.next();
                while (freeBytes > keepBytes && !e.getValue().isEmpty()) {
                    toRelease.add(e.getValue().pop());
                    freeBytes -= e.getKey() * 4;
                    released += e.getKey() * 4;
                }
                if (e.getValue().isEmpty()) it.remove();
            }
        }
        for (M m : toRelease) memory.release(m);
        return released;
    }

    /** Releases every free block; blocks given back later are released at once. */
    public void close() {
        synchronized (this) {
            closed = true;
        }
        trim(0);
    }

    /** Bytes in blocks taken and not given back. */
    public synchronized long liveBytes() {
        return liveBytes;
    }

    /** Bytes in free blocks kept for reuse. */
    public synchronized long freeBytes() {
        return freeBytes;
    }

    /** Blocks created so far (tests check that a repeated step creates none). */
    public synchronized long created() {
        return created;
    }

    /** Takes served from the pool so far. */
    public synchronized long reused() {
        return reused;
    }
}
