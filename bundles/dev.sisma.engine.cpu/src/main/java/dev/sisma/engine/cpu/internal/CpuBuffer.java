package dev.sisma.engine.cpu.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import dev.sisma.engine.spi.DeviceBuffer;

/**
 * A CPU buffer: an off-heap {@link MemorySegment} of float32.
 *
 * <p>Why off-heap and not float[]: a memory-mapped safetensors file can then be used as weights
 * with no copy (an 800M-parameter model is 3.2 GB), arrays over 2^31 elements are possible, and
 * freeing is explicit (no GC pressure from large short-lived activations). The GEMM packs its
 * panels into heap arrays anyway, so the hot micro-kernel does not pay for segment access.
 */
public final class CpuBuffer implements DeviceBuffer {
    final MemorySegment seg;
    private final Arena arena; // null: aliases caller memory
    private final long size;
    private volatile boolean closed;

    private CpuBuffer(MemorySegment seg, Arena arena, long size) {
        this.seg = seg;
        this.arena = arena;
        this.size = size;
    }

    public static CpuBuffer allocate(long floats) {
        Arena a = Arena.ofShared();
        // 64-byte alignment: full cache lines and aligned vector loads
        MemorySegment s = a.allocate(Math.max(4, floats * 4), 64);
        return new CpuBuffer(s, a, floats);
    }

    public static CpuBuffer alias(MemorySegment s) {
        return new CpuBuffer(s, null, s.byteSize() / 4);
    }

    public MemorySegment segment() {
        if (closed) throw new IllegalStateException("CPU buffer used after close");
        return seg;
    }

    @Override
    public long size() { return size; }

    @Override
    public void close() {
        if (closed) return;
        closed = true;
        if (arena != null) arena.close();
    }

    public static MemorySegment of(DeviceBuffer b) {
        if (b == null) return null;
        if (!(b instanceof CpuBuffer c)) throw new IllegalArgumentException("not a CPU buffer: " + b.getClass().getName());
        return c.segment();
    }
}
