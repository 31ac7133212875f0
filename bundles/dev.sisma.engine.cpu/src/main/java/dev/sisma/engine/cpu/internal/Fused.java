package dev.sisma.engine.cpu.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * The fused AdaLN and Mamba-gate kernels (the Backend's modulate, layerNormModulate, gatedResidual,
 * siluGate): one pass over the activations each, no temporaries, where the default composites make
 * two to four passes and a temporary. Rows of [batch, tokens, cols] are split over the workers;
 * each row is one vector loop along cols.
 *
 * <p>Arithmetic: modulate, gatedResidual and siluGate do the composites' float operations in the
 * same order (a multiply and a separate add, no FMA; silu through {@link FloatMath}), so their
 * results are the composites' bit for bit. layerNormModulate sums a row's values and squared
 * deviations in vector lanes of float (the plain layerNorm kernel sums in double, one value at a
 * time): a few ulp apart at D = 1024, and four times faster.
 *
 * <p>Each op has its own row loop, alike as they look: one shared loop taking the arithmetic as a
 * lambda is what Elementwise's note on speed warns of (C2 inlines it past its budget and boxes).
 */
public final class Fused {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(LE);
    /** Floats a task covers at least: below that the fork/join handshake costs more than the work. */
    private static final int MIN_TASK = 1 << 14;

    private Fused() {}

    @FunctionalInterface
    private interface Rows {
        void run(int from, int to);
    }

    private static void rows(Parallel par, int rows, int cols, Rows body) {
        int tasks = Math.min(rows, par.tasks((long) rows * cols, MIN_TASK));
        par.run(tasks, t -> body.run((int) ((long) rows * t / tasks), (int) ((long) rows * (t + 1) / tasks)));
    }

    /** y[b,t,c] = x[b,t,c] * (1 + scale[b,c]) + shift[b,c]; y may be x. */
    public static void modulate(Parallel par, MemorySegment x, MemorySegment shift, MemorySegment scale, MemorySegment y,
                                int batch, int tokens, int cols) {
        rows(par, batch * tokens, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long xo = (long) r * cols * 4, so = (long) (r / tokens) * cols * 4;
                int j = 0;
                for (; j + V <= cols; j += V) {
                    long o = 4L * j;
                    FloatVector s1 = FloatVector.fromMemorySegment(S, scale, so + o, LE).add(1f);
                    FloatVector.fromMemorySegment(S, x, xo + o, LE).mul(s1).add(FloatVector.fromMemorySegment(S, shift, so + o, LE))
                            .intoMemorySegment(y, xo + o, LE);
                }
                for (; j < cols; j++) {
                    long o = 4L * j;
                    y.set(F, xo + o, x.get(F, xo + o) * (scale.get(F, so + o) + 1f) + shift.get(F, so + o));
                }
            }
        });
    }

    /** layerNorm of each row (no affine) then modulate; y must not be x. */
    public static void layerNormModulate(Parallel par, MemorySegment x, MemorySegment shift, MemorySegment scale, MemorySegment y,
                                         int batch, int tokens, int cols, float eps) {
        rows(par, batch * tokens, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long xo = (long) r * cols * 4, so = (long) (r / tokens) * cols * 4;
                FloatVector acc = FloatVector.zero(S);
                int j = 0;
                for (; j + V <= cols; j += V) acc = acc.add(FloatVector.fromMemorySegment(S, x, xo + 4L * j, LE));
                float sum = acc.reduceLanes(VectorOperators.ADD);
                for (; j < cols; j++) sum += x.get(F, xo + 4L * j);
                float m = sum / cols;
                acc = FloatVector.zero(S);
                for (j = 0; j + V <= cols; j += V) {
                    FloatVector d = FloatVector.fromMemorySegment(S, x, xo + 4L * j, LE).sub(m);
                    acc = acc.add(d.mul(d));
                }
                float ss = acc.reduceLanes(VectorOperators.ADD);
                for (; j < cols; j++) {
                    float d = x.get(F, xo + 4L * j) - m;
                    ss += d * d;
                }
                float rs = (float) (1 / Math.sqrt((double) ss / cols + eps));
                for (j = 0; j + V <= cols; j += V) {
                    long o = 4L * j;
                    FloatVector s1 = FloatVector.fromMemorySegment(S, scale, so + o, LE).add(1f);
                    FloatVector.fromMemorySegment(S, x, xo + o, LE).sub(m).mul(rs).mul(s1)
                            .add(FloatVector.fromMemorySegment(S, shift, so + o, LE)).intoMemorySegment(y, xo + o, LE);
                }
                for (; j < cols; j++) {
                    long o = 4L * j;
                    y.set(F, xo + o, (x.get(F, xo + o) - m) * rs * (scale.get(F, so + o) + 1f) + shift.get(F, so + o));
                }
            }
        });
    }

    /** out[b,t,c] = x[b,t,c] + gate[b,c] * y[b,t,c]; out may be x or y. */
    public static void gatedResidual(Parallel par, MemorySegment x, MemorySegment gate, MemorySegment y, MemorySegment out,
                                     int batch, int tokens, int cols) {
        rows(par, batch * tokens, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long xo = (long) r * cols * 4, go = (long) (r / tokens) * cols * 4;
                int j = 0;
                for (; j + V <= cols; j += V) {
                    long o = 4L * j;
                    FloatVector gy = FloatVector.fromMemorySegment(S, gate, go + o, LE).mul(FloatVector.fromMemorySegment(S, y, xo + o, LE));
                    FloatVector.fromMemorySegment(S, x, xo + o, LE).add(gy).intoMemorySegment(out, xo + o, LE);
                }
                for (; j < cols; j++) {
                    long o = 4L * j;
                    out.set(F, xo + o, x.get(F, xo + o) + gate.get(F, go + o) * y.get(F, xo + o));
                }
            }
        });
    }

    /** out[r,c] = x[r,c] * silu(z[zOffset + r zStride + c]); out may be x. */
    public static void siluGate(Parallel par, MemorySegment x, MemorySegment z, long zOffset, long zStride, MemorySegment out,
                                int rows, int cols) {
        rows(par, rows, cols, (r0, r1) -> {
            for (int r = r0; r < r1; r++) {
                long xo = (long) r * cols * 4, zo = (zOffset + r * zStride) * 4;
                int j = 0;
                for (; j + V <= cols; j += V) {
                    long o = 4L * j;
                    FloatVector.fromMemorySegment(S, x, xo + o, LE).mul(FloatMath.silu(FloatVector.fromMemorySegment(S, z, zo + o, LE)))
                            .intoMemorySegment(out, xo + o, LE);
                }
                for (; j < cols; j++) {
                    long o = 4L * j;
                    out.set(F, xo + o, x.get(F, xo + o) * FloatMath.silu(z.get(F, zo + o)));
                }
            }
        });
    }
}
