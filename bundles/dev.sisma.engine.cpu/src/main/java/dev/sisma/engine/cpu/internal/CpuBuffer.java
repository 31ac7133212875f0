package dev.sisma.engine.cpu.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.sisma.engine.spi.BufferPool;
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
    /** A block of the backend's {@link BufferPool}: an arena of its own and its whole segment. */
    public record Block(Arena arena, MemorySegment segment) {}

    /** Blocks for a {@code BufferPool}: each a shared arena (64-byte aligned: full cache lines, aligned vector loads). */
    public static final BufferPool.Memory<Block> MEMORY = new BufferPool.Memory<>() {
        @Override
        public Block create(long bytes) {
            Arena a = Arena.ofShared();
            return new Block(a, a.allocate(bytes, 64));
        }

        @Override
        public void release(Block b) {
            b.arena().close();
        }
    };

    /** The float32 values; null while the buffer holds 16-bit floats ({@link #half}) or is packed in place ({@link #packed}). */
    volatile MemorySegment seg;
    private Arena arena; // unpooled and owned: closed with the buffer; null otherwise
    /**
     * A weight given as 16-bit floats ({@code Backend.uploadHalf}): the values at half size, read
     * only by the GEMM's packing, which widens them; the first other use widens the whole buffer
     * to float32 for good ({@link #segment()}). Null for a float32 buffer.
     */
    private volatile MemorySegment half;
    private final boolean bf16; // half holds BF16 (else F16)
    private final BufferPool<Block> pool; // pooled: the block goes back to it
    private final Block block;
    private final long size;
    private final AtomicBoolean closed = new AtomicBoolean(); // close twice must not give the block back twice
    private boolean givenBack; // the pool block went back when the buffer was packed in place; guarded by this
    /** GEMMs reading this buffer as their B operand now: it is packed in place only when one is (see {@link PackedWeights}). */
    final java.util.concurrent.atomic.AtomicInteger gemmReaders = new java.util.concurrent.atomic.AtomicInteger();
    /**
     * Counts the hand-outs of the segment ({@link #segment()}, {@link #of}): every write goes
     * through one, so an unchanged count proves unchanged contents (reads count too: harmless,
     * they only make a cached packing of this buffer look stale). See {@link PackedWeights}.
     */
    private final AtomicLong generation = new AtomicLong();
    /**
     * The GEMM's packed form of this buffer as a weight, which then is its only storage ({@link #seg}
     * null), or a note that it was seen once; guarded by {@code this}.
     */
    PackedWeights.Entry packed;

    private CpuBuffer(MemorySegment seg, Arena arena, BufferPool<Block> pool, Block block, long size) {
        this(seg, null, false, arena, pool, block, size);
    }

    private CpuBuffer(MemorySegment seg, MemorySegment half, boolean bf16, Arena arena, BufferPool<Block> pool, Block block, long size) {
        this.seg = seg;
        this.half = half;
        this.bf16 = bf16;
        this.arena = arena;
        this.pool = pool;
        this.block = block;
        this.size = size;
    }

    /** A buffer of {@code count} 16-bit floats copied from {@code src} (BF16 when {@code bf16}, else F16), kept at that size. */
    public static CpuBuffer half(MemorySegment src, long count, boolean bf16) {
        Arena a = Arena.ofShared();
        MemorySegment h = a.allocate(Math.max(2, count * 2), 64);
        MemorySegment.copy(src, 0, h, 0, count * 2);
        return new CpuBuffer(null, h, bf16, a, null, null, count);
    }

    /** The 16-bit values while the buffer holds them (see {@link #half}), else null. */
    MemorySegment halfValues() {
        if (closed.get()) throw new IllegalStateException("CPU buffer used after close");
        return half;
    }

    boolean bf16() {
        return bf16;
    }

    /**
     * Float32 storage of the buffer's own again, for good: the 16-bit values widened, or the GEMM's
     * in-place pack unpacked; what they were held in is freed.
     */
    private synchronized MemorySegment restore() {
        MemorySegment s = seg;
        if (s != null) return s;
        Arena a = Arena.ofShared();
        s = a.allocate(Math.max(4, size * 4), 64);
        MemorySegment h = half;
        if (h != null) {
            for (long i = 0; i < size; i++) s.setAtIndex(Elementwise.F, i, Gemm.widen(h.getAtIndex(Gemm.I16, i), bf16));
            half = null;
        } else {
            PackedWeights.Entry e = packed;
            Gemm.unpack(e.data(), e.tb(), e.n(), e.k(), s);
            packed = null;
            e.owner().release(e);
        }
        Arena old = arena;
        arena = a;
        seg = s;
        if (old != null) old.close();
        return s;
    }

    /** Frees the float32 storage: the caller has packed it in place (holding this buffer's lock). */
    synchronized void dropFloats() {
        seg = null;
        if (pool != null && !givenBack) { // freed, not pooled: the pack is the weight now, for many steps
            pool.discard(block, BufferPool.sizeClass(size));
            givenBack = true;
        } else if (arena != null) {
            arena.close();
            arena = null;
        }
    }

    /** A zeroed buffer of its own arena (scratch inside a kernel). */
    public static CpuBuffer allocate(long floats) {
        Block b = MEMORY.create(Math.max(4, floats * 4));
        return new CpuBuffer(b.segment(), b.arena(), null, null, floats);
    }

    /** A buffer on a block of the pool; its contents are undefined (a recycled block keeps its old values): clear or overwrite it. */
    public static CpuBuffer allocateUncleared(BufferPool<Block> pool, long floats) {
        Block b = pool.take(BufferPool.sizeClass(floats));
        return new CpuBuffer(b.segment().asSlice(0, Math.max(4, floats * 4)), null, pool, b, floats);
    }

    public static CpuBuffer alias(MemorySegment s) {
        return new CpuBuffer(s, null, null, null, s.byteSize() / 4);
    }

    /**
     * The float32 values, for any read or write. Take it per use: a GEMM that reads this buffer as
     * its B operand may later pack it in place and free this segment ({@link PackedWeights}).
     */
    public MemorySegment segment() {
        generation.incrementAndGet();
        return peek();
    }

    /** The segment for a read that leaves the generation as it is (the GEMM's B operand, which it may cache packed). */
    MemorySegment peek() {
        if (closed.get()) throw new IllegalStateException("CPU buffer used after close");
        MemorySegment s = seg;
        return s != null ? s : restore();
    }

    long generation() {
        return generation.get();
    }

    @Override
    public long size() { return size; }

    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) return;
        PackedWeights.drop(this);
        synchronized (this) {
            if (pool != null && !givenBack) pool.give(block, BufferPool.sizeClass(size));
            if (arena != null) arena.close();
        }
    }

    public static MemorySegment of(DeviceBuffer b) {
        return b == null ? null : checked(b).segment();
    }

    /** {@code b} as a CPU buffer (not null). */
    public static CpuBuffer checked(DeviceBuffer b) {
        if (!(b instanceof CpuBuffer c)) throw new IllegalArgumentException("not a CPU buffer: " + (b == null ? "null" : b.getClass().getName()));
        return c;
    }
}
