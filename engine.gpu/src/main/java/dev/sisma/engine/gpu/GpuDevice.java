package dev.sisma.engine.gpu;

import java.nio.ByteBuffer;

import dev.sisma.engine.spi.BufferPool;

/**
 * What a GPU backend's device layer implements, and all that differs between OpenCL and CUDA:
 * memory, transfers and launches of the kernels of {@code engine.kernels/} by name. Everything
 * above it (the SPI's checks, launch geometry, stride merging, the index cache, the scan's
 * multi-pass backward) is {@link GpuBackend}, once for both.
 *
 * <p>Work runs in order on one queue (an OpenCL in-order command queue, a CUDA stream): reads
 * block until every earlier call has completed; writes and launches may return earlier.
 *
 * @param <M> the device's handle of an allocation (cl_mem, CUdeviceptr)
 */
public interface GpuDevice<M> extends AutoCloseable {
    /** Local size of the row kernels: SK_WG of the compiled program, a power of two. */
    int rowGroup();

    /** Recycled allocations by size class. */
    BufferPool<M> pool();

    /** A new allocation of {@code bytes}, outside the pool (index arrays). */
    M createBuffer(long bytes);

    /** Frees an allocation of {@link #createBuffer}; no queued work may still use it. */
    void release(M m);

    /** Copies {@code count} floats from {@code src[from..]} to {@code dst} at {@code byteOffset}. */
    void write(M dst, long byteOffset, float[] src, int from, int count);

    /** Copies the ints of {@code src} to the start of {@code dst}. */
    void write(M dst, int[] src);

    /** Copies the remaining bytes of a direct buffer to {@code dst} at {@code byteOffset}. */
    void write(M dst, long byteOffset, ByteBuffer src);

    /** Blocking read of {@code count} floats into {@code dst[from..]}. */
    void read(M src, long byteOffset, float[] dst, int from, int count);

    /** Blocking read filling the remaining bytes of a direct buffer. */
    void read(M src, long byteOffset, ByteBuffer dst);

    /** Blocks until every queued call has completed. */
    void finish();

    /**
     * Queues kernel {@code kernel} over {@code global} work-items (rounded up to a multiple of
     * {@code local}, per dimension) in groups of {@code local}. Arguments in order: a
     * {@link GpuBuffer} or an {@code M}, Integer, Long, Float, or a byte[] passed by value (a struct).
     * Nothing runs when a global size is 0.
     */
    void launch(String kernel, long[] global, long[] local, Object... args);

    @Override
    void close();
}
