package dev.sisma.engine.opencl.internal;

import java.util.ArrayDeque;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jocl.cl_mem;

/**
 * Device memory recycled by size class, so the denoising loop, which allocates the same shapes
 * every step, stops calling clCreateBuffer after the first step. Sizes round up to 256 floats
 * (1 KiB) below 1 Mi floats and to 1/16 of the power of two above (at most 6% slack). Free
 * buffers are kept up to {@code limitBytes}, the least recently returned released first; an
 * allocation failure empties the pool and retries once (see {@link ClRuntime#createBuffer}).
 */
final class BufferPool {
    private final ClRuntime runtime;
    private final long limitBytes;
    /** Size class (floats) to free buffers; insertion order = least recently used class first. */
    private final LinkedHashMap<Long, ArrayDeque<cl_mem>> free = new LinkedHashMap<>(16, 0.75f, true);
    private long freeBytes;
    private long liveBytes;
    private long created;
    private long reused;

    BufferPool(ClRuntime runtime, long limitBytes) {
        this.runtime = runtime;
        this.limitBytes = limitBytes;
    }

    static long sizeClass(long floats) {
        long f = Math.max(1, floats);
        if (f <= (1L << 20)) return (f + 255) & ~255L;
        long step = Long.highestOneBit(f) >> 4;
        return (f + step - 1) / step * step;
    }

    /** A buffer of the class's capacity; not zeroed. */
    cl_mem take(long capacity) {
        synchronized (this) {
            ArrayDeque<cl_mem> q = free.get(capacity);
            if (q != null && !q.isEmpty()) {
                freeBytes -= capacity * 4;
                liveBytes += capacity * 4;
                reused++;
                return q.pop();
            }
        }
        cl_mem m = runtime.createBuffer(capacity * 4);
        synchronized (this) {
            liveBytes += capacity * 4;
            created++;
        }
        return m;
    }

    void give(cl_mem m, long capacity) {
        synchronized (this) {
            liveBytes -= capacity * 4;
            free.computeIfAbsent(capacity, c -> new ArrayDeque<>()).push(m);
            freeBytes += capacity * 4;
        }
        trim(limitBytes);
    }

    /** Releases free buffers until at most {@code keepBytes} stay pooled; returns the bytes released. */
    long trim(long keepBytes) {
        long released = 0;
        java.util.List<cl_mem> toRelease = new java.util.ArrayList<>();
        synchronized (this) {
            Iterator<Map.Entry<Long, ArrayDeque<cl_mem>>> it = free.entrySet().iterator();
            while (freeBytes > keepBytes && it.hasNext()) {
                Map.Entry<Long, ArrayDeque<cl_mem>> e = it.next();
                while (freeBytes > keepBytes && !e.getValue().isEmpty()) {
                    toRelease.add(e.getValue().pop());
                    freeBytes -= e.getKey() * 4;
                    released += e.getKey() * 4;
                }
                if (e.getValue().isEmpty()) it.remove();
            }
        }
        for (cl_mem m : toRelease) runtime.release(m);
        return released;
    }

    synchronized long liveBytes() {
        return liveBytes;
    }

    synchronized long freeBytes() {
        return freeBytes;
    }

    /** clCreateBuffer calls so far (tests check that a repeated step creates none). */
    synchronized long created() {
        return created;
    }

    synchronized long reused() {
        return reused;
    }
}
