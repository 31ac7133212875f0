package dev.sisma.engine.cpu.internal;

import java.util.concurrent.atomic.AtomicLong;

/**
 * The GEMM's packed weights, one backend's cache: the B operand of a GEMM (a Linear's weight)
 * packed into the micro-kernel's panel layout once and reused by every later call while the
 * buffer is unchanged, across steps and samples (packing a [4096, 1024] weight is about a tenth
 * of a 256-row product).
 *
 * <p>Design: the packed form hangs on the {@link CpuBuffer} itself, stamped with the buffer's
 * generation, a count of the segment's hand-outs. Every backend op that writes a buffer gets its
 * segment through {@link CpuBuffer#segment()}, so any write (an optimizer step, a copy into the
 * weight) makes the stamp stale and the next GEMM packs again; only the GEMM's B read uses
 * {@link CpuBuffer#peek()}, which leaves it. No SPI change, nothing for a caller to remember. A
 * buffer {@linkplain dev.sisma.engine.spi.Backend#map mapped} from caller memory must not be
 * changed behind the backend's back (as for every op). Packing happens on the second call with
 * the same generation and shape, so a training step, whose weights change between uses, never
 * pays for a whole-weight pack it would use once. The packed arrays count against a byte budget
 * (past it a GEMM packs per call as before); an entry is given back when its buffer closes or its
 * pack is replaced, so the cache never outgrows the live weights.
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
            long g = b.generation();
            Entry e = b.packed;
            if (e != null && e.matches(g, tb, n, k, offset)) {
                if (e.data != null) return e.data;
                long bytes = 4L * floats;
                if (used.addAndGet(bytes) > budget) {
                    used.addAndGet(-bytes);
                    return null;
                }
                float[] data = new float[floats];
                packer.pack(data);
                b.packed = new Entry(this, g, tb, n, k, offset, data);
                return data;
            }
            release(e);
            b.packed = new Entry(this, g, tb, n, k, offset, null);
            return null;
        }
    }

    /** Gives back the packing of a closing buffer. */
    static void drop(CpuBuffer b) {
        synchronized (b) {
            Entry e = b.packed;
            b.packed = null;
            if (e != null) e.owner.release(e);
        }
    }

    private void release(Entry e) {
        if (e != null && e.data != null) e.owner.used.addAndGet(-4L * e.data.length);
    }
}
