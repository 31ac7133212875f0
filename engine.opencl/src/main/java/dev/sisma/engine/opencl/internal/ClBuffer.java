package dev.sisma.engine.opencl.internal;

import java.util.concurrent.atomic.AtomicBoolean;

import org.jocl.cl_mem;

import dev.sisma.engine.spi.DeviceBuffer;

/** A device allocation of {@link #size()} floats; closing returns the memory to the backend's pool. */
final class ClBuffer implements DeviceBuffer {
    final OpenClBackend owner;
    private final cl_mem mem;
    private final long size;
    /** Allocated capacity in floats (the pool's size class), at least size. */
    final long capacity;
    private final AtomicBoolean closed = new AtomicBoolean();

    ClBuffer(OpenClBackend owner, cl_mem mem, long size, long capacity) {
        this.owner = owner;
        this.mem = mem;
        this.size = size;
        this.capacity = capacity;
    }

    cl_mem mem() {
        if (closed.get()) {
            throw new IllegalStateException("OpenCL buffer of " + size + " floats used after close()");
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
            owner.runtime().pool.give(mem, capacity);
        }
    }

    @Override
    public String toString() {
        return "ClBuffer[" + size + (closed.get() ? ", closed]" : "]");
    }
}
