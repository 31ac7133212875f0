package dev.sisma.engine.cpu.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The GEMM's packed weights, one backend's budget: the B operand of a GEMM (a Linear's weight)
 * packed into the micro-kernel's panel layout once and reused by every later call, across steps
 * and samples (packing a [4096, 1024] weight is about a tenth of a 256-row product).
 *
 * <p>Design: the pack replaces the buffer's float32 storage (packed in place: {@link CpuBuffer}
 * frees its segment, so a weight is held once, not twice). Anything that needs the float32
 * values again, through {@link CpuBuffer#segment()} (every backend op but the GEMM's B read,
 * writes included), unpacks it for good; so a training update, a copy into the weight or a
 * download sees the plain values, and the next GEMMs pack it anew. Packing happens on the second
 * GEMM with the same shape and no other use of the buffer in between (its generation, a count of
 * the segment's hand-outs, unchanged), so a training step, whose weights change between uses,
 * never pays for a whole-weight pack it would use once; only when no other GEMM reads the buffer
 * at that moment; only for a buffer of exactly n k values. The packs live on the heap and count
 * against a byte budget (past it a GEMM packs per call as before); a pack is given back when its
 * buffer closes or unpacks. A buffer {@linkplain dev.sisma.engine.spi.Backend#map mapped} from
 * caller memory stops reading that memory once packed (the caller's mapping stays the caller's).
 */
public final class PackedWeights {
    /** One buffer's packing: {@code data} null while the buffer was only seen once. */
    record Entry(PackedWeights owner, long generation, boolean tb, int n, int k, long offset, float[] data) {
        boolean matches(long g, boolean t, int nn, int kk, long off) {
            return generation == g && tb == t && n == nn && k == kk && offset == off;
        }
    }

    /** Packs the whole op(B) (k deep, n wide) into {@code dst} in the kernel's layout. */
    interface Packer {
        void pack(float[] dst);
    }

    private final long budget;
    private final AtomicLong used = new AtomicLong();

    /** A cache holding at most {@code budgetBytes} of packed weights. */
    public PackedWeights(long budgetBytes) {
        this.budget = budgetBytes;
    }

    /** Bytes of packed weights held now. */
    public long usedBytes() {
        return used.get();
    }

    /**
     * The packed op(B) of {@code b} at element offset {@code offset}, or null when the caller
     * packs per call itself: first sight of this generation and shape, or over budget.
     */
    float[] lookup(CpuBuffer b, boolean tb, int n, int k, long offset, int floats, Packer packer) {
        synchronized (b) {
            Entry e = b.packed;
            if (e != null && e.data != null) // packed in place: any other use would have unpacked it
                return e.tb == tb && e.n == n && e.k == k && e.offset == offset ? e.data : null;
            long g = b.generation();
            if (e != null && e.matches(g, tb, n, k, offset)) {
                if (offset != 0 || b.size() != (long) n * k || b.gemmReaders.get() > 1) return null;
                long bytes = 4L * floats;
                if (used.addAndGet(bytes) > budget) {
                    used.addAndGet(-bytes);
                    return null;
                }
                float[] data = new float[floats];
                packer.pack(data);
                b.packed = new Entry(this, g, tb, n, k, offset, data);
                b.dropFloats();
                return data;
            }
            b.packed = new Entry(this, g, tb, n, k, offset, null);
            return null;
        }
    }

    /** Gives back the pack of a closing buffer. */
    static void drop(CpuBuffer b) {
        synchronized (b) {
            Entry e = b.packed;
            b.packed = null;
            if (e != null) e.owner.release(e);
        }
    }

    /** Gives back the bytes of a pack (its buffer closed or unpacked it). */
    void release(Entry e) {
        if (e != null && e.data != null) e.owner.used.addAndGet(-4L * e.data.length);
    }
}
