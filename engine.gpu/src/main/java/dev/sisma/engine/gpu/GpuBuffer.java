package dev.sisma.engine.gpu;

import java.util.concurrent.atomic.AtomicBoolean;

import dev.sisma.engine.spi.DeviceBuffer;

/** A device allocation of {@link #size()} floats; closing returns the memory to its device's pool. */
public final class GpuBuffer<M> implements DeviceBuffer {
    final GpuBackend<M> owner;
    private final M mem;
    private final long size;
    /** Allocated capacity in floats (the pool's size class), at least size. */
    final long capacity;
    private final AtomicBoolean closed = new AtomicBoolean();

    GpuBuffer(GpuBackend<M> owner, M mem, long size, long capacity) {
        this.owner = owner;
        this.mem = mem;
        this.size = size;
        this.capacity = capacity;
    }

    /** The device handle; fails once the buffer is closed. */
    public M mem() {
        if (closed.get()) {
            throw new IllegalStateException(owner.name() + " buffer of " + size + " floats used after close()");
        }
        return mem;
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            owner.gpu().pool().give(mem, capacity);
        }
    }

    @Override
    public String toString() {
        return owner.name() + " buffer[" + size + (closed.get() ? ", closed]" : "]");
    }
}
