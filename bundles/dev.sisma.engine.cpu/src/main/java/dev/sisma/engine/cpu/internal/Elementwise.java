package dev.sisma.engine.cpu.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.UnaryOp;

/** Unary, binary (broadcasting), affine and strided-copy kernels, vectorised along the last axis. */
public final class Elementwise {
    static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    static final int V = S.length();
    static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    private static final float SQRT_2_OVER_PI = 0.7978845608028654f;
    private static final int CHUNK = 1 << 14;

    private Elementwise() {}

    private static void chunks(Parallel par, long count, ChunkBody body) {
        int tasks = par.tasks(count, CHUNK);
        par.run(tasks, t -> body.run(count * t / tasks, count * (t + 1) / tasks));
    }

    @FunctionalInterface
    interface ChunkBody { void run(long from, long to); }

    // ------------------------------------------------------------------ unary

    /*
     * Determinism: every op computes the same IEEE operations in its vector and scalar forms
     * (FloatMath for the transcendental ones, StrictMath for sin and cos), so results do not
     * depend on the JIT tier, on where a chunk boundary falls or on the vector width's tail.
     *
     * Speed: every op has its own lambda with its own vector loop, so each compiles on its own.
     * A switch around (or inside) one shared loop had C2 inline every op into one method: past its
     * inlining budget the ops parsed last stayed calls and boxed a vector per iteration (the
     * transcendental ops' polynomials use up the budget quickly). For the same reason the loops
     * load and store with the Vector API's own (force-inlined) calls, not with small helpers: after
     * FloatMath.tanh/log/softplus C2 was past NodeCountInliningCutoff, left the helper a call and
     * boxed the vector passed to it (TANH, LOG, SOFTPLUS, GELU_TANH and the TANH and GELU_TANH
     * backward allocated 8-16 bytes per element and ran 1.5-2x slower).
     */

    public static void unary(Parallel par, UnaryOp op, MemorySegment x, MemorySegment y, long count) {
        ChunkBody body = switch (op) {
            case NEG -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, x, i * 4, LE).neg().intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case EXP -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.exp(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case LOG -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.log(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SQRT -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, x, i * 4, LE).sqrt().intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case RSQRT -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) inv(FloatVector.fromMemorySegment(S, x, i * 4, LE).sqrt()).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case ABS -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, x, i * 4, LE).abs().intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SIN, COS -> (lo, hi) -> fwdTail(op, x, y, lo, hi); // StrictMath, per element
            case TANH -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.tanh(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SIGMOID -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.sigmoid(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SILU -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.silu(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SOFTPLUS -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.softplus(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case GELU_TANH -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) gelu(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case RELU -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, x, i * 4, LE).max(0f).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
            case SQUARE -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) { FloatVector v = FloatVector.fromMemorySegment(S, x, i * 4, LE); v.mul(v).intoMemorySegment(y, i * 4, LE); } fwdTail(op, x, y, i, hi); };
            case RECIPROCAL -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) inv(FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE); fwdTail(op, x, y, i, hi); };
        };
        chunks(par, count, body);
    }

    public static void unaryBackward(Parallel par, UnaryOp op, MemorySegment x, MemorySegment dy, MemorySegment dx, long count) {
        ChunkBody body = switch (op) {
            case NEG -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, dy, i * 4, LE).neg().intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case EXP -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.exp(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case LOG -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) inv(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case SQRT -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) inv(FloatVector.fromMemorySegment(S, x, i * 4, LE).sqrt().mul(2f)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case RSQRT -> (lo, hi) -> {
                long i = lo;
                for (; i + V <= hi; i += V) { FloatVector v = FloatVector.fromMemorySegment(S, x, i * 4, LE); inv(v.sqrt().mul(v).mul(-2f)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); }
                bwdTail(op, x, dy, dx, i, hi);
            };
            case ABS -> (lo, hi) -> {
                long i = lo;
                for (; i + V <= hi; i += V) {
                    FloatVector v = FloatVector.fromMemorySegment(S, x, i * 4, LE);
                    FloatVector.zero(S).blend(1f, v.compare(VectorOperators.GT, 0f)).blend(-1f, v.compare(VectorOperators.LT, 0f)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE);
                }
                bwdTail(op, x, dy, dx, i, hi);
            };
            case SIN, COS -> (lo, hi) -> bwdTail(op, x, dy, dx, lo, hi);
            case TANH -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) tanhGrad(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case SIGMOID -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) sigmoidGrad(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case SILU -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) siluGrad(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case SOFTPLUS -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatMath.sigmoid(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case GELU_TANH -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) geluGrad(FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case RELU -> (lo, hi) -> {
                long i = lo;
                for (; i + V <= hi; i += V) FloatVector.zero(S).blend(1f, FloatVector.fromMemorySegment(S, x, i * 4, LE).compare(VectorOperators.GT, 0f)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE);
                bwdTail(op, x, dy, dx, i, hi);
            };
            case SQUARE -> (lo, hi) -> { long i = lo; for (; i + V <= hi; i += V) FloatVector.fromMemorySegment(S, x, i * 4, LE).mul(2f).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); bwdTail(op, x, dy, dx, i, hi); };
            case RECIPROCAL -> (lo, hi) -> {
                long i = lo;
                for (; i + V <= hi; i += V) { FloatVector v = FloatVector.fromMemorySegment(S, x, i * 4, LE); inv(v.mul(v)).neg().mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE); }
                bwdTail(op, x, dy, dx, i, hi);
            };
        };
        chunks(par, count, body);
    }

    /** Elements [i, hi) one at a time (the tail after the vector loop; all of sin and cos). */
    private static void fwdTail(UnaryOp op, MemorySegment x, MemorySegment y, long i, long hi) {
        for (; i < hi; i++) y.set(F, i * 4, fwd(op, x.get(F, i * 4)));
    }

    private static void bwdTail(UnaryOp op, MemorySegment x, MemorySegment dy, MemorySegment dx, long i, long hi) {
        for (; i < hi; i++) dx.set(F, i * 4, bwd(op, x.get(F, i * 4)) * dy.get(F, i * 4));
    }

    private static FloatVector inv(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x);
    }

    // Composite derivatives and GELU: each vector form next to its scalar twin, same operations.

    /** 1 - tanh(x)^2. */
    static FloatVector tanhGrad(FloatVector x) {
        FloatVector t = FloatMath.tanh(x);
        return t.neg().fma(t, FloatVector.broadcast(S, 1f));
    }

    static float tanhGrad(float x) {
        float t = FloatMath.tanh(x);
        return Math.fma(-t, t, 1f);
    }

    /** s (1 - s), s = sigmoid(x). */
    static FloatVector sigmoidGrad(FloatVector x) {
        FloatVector s = FloatMath.sigmoid(x);
        return s.mul(s.neg().add(1f));
    }

    static float sigmoidGrad(float x) {
        float s = FloatMath.sigmoid(x);
        return s * (-s + 1f);
    }

    /** s (1 + x (1 - s)), s = sigmoid(x). */
    static FloatVector siluGrad(FloatVector x) {
        FloatVector s = FloatMath.sigmoid(x);
        return s.mul(x.mul(s.neg().add(1f)).add(1f));
    }

    static float siluGrad(float x) {
        float s = FloatMath.sigmoid(x);
        return s * (x * (-s + 1f) + 1f);
    }

    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
    static FloatVector gelu(FloatVector x) {
        FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
        return x.mul(0.5f).mul(FloatMath.tanh(inner).add(1f));
    }

    static float gelu(float x) {
        float inner = (x * x * x * 0.044715f + x) * SQRT_2_OVER_PI;
        return x * 0.5f * (FloatMath.tanh(inner) + 1f);
    }

    static FloatVector geluGrad(FloatVector x) {
        FloatVector x2 = x.mul(x);
        FloatVector t = FloatMath.tanh(x2.mul(0.044715f).add(1f).mul(x).mul(SQRT_2_OVER_PI));
        FloatVector dinner = x2.mul(3 * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
        return t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(t.neg().fma(t, FloatVector.broadcast(S, 1f))).mul(dinner));
    }

    static float geluGrad(float x) {
        float x2 = x * x;
        float t = FloatMath.tanh((x2 * 0.044715f + 1f) * x * SQRT_2_OVER_PI);
        float dinner = (x2 * (3 * 0.044715f) + 1f) * SQRT_2_OVER_PI;
        return (t + 1f) * 0.5f + x * 0.5f * Math.fma(-t, t, 1f) * dinner;
    }

    /** One element, the same operations as the vector loops (so a tail or a single value matches a lane). */
    public static float fwd(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> FloatMath.exp(x);
            case LOG -> FloatMath.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RSQRT -> 1f / (float) Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIN -> (float) StrictMath.sin(x);
            case COS -> (float) StrictMath.cos(x);
            case TANH -> FloatMath.tanh(x);
            case SIGMOID -> FloatMath.sigmoid(x);
            case SILU -> FloatMath.silu(x);
            case SOFTPLUS -> FloatMath.softplus(x);
            case GELU_TANH -> gelu(x);
            case RELU -> Math.max(x, 0f);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1f / x;
        };
    }

    public static float bwd(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -1f;
            case EXP -> FloatMath.exp(x);
            case LOG -> 1f / x;
            case SQRT -> 1f / ((float) Math.sqrt(x) * 2f);
            case RSQRT -> 1f / ((float) Math.sqrt(x) * x * -2f);
            case ABS -> x > 0f ? 1f : x < 0f ? -1f : 0f;
            case SIN -> (float) StrictMath.cos(x);
            case COS -> (float) -StrictMath.sin(x);
            case TANH -> tanhGrad(x);
            case SIGMOID -> sigmoidGrad(x);
            case SOFTPLUS -> FloatMath.sigmoid(x);
            case SILU -> siluGrad(x);
            case GELU_TANH -> geluGrad(x);
            case RELU -> x > 0 ? 1f : 0f;
            case SQUARE -> 2 * x;
            case RECIPROCAL -> -(1f / (x * x));
        };
    }

    public static void affine(Parallel par, MemorySegment x, MemorySegment y, long count, float alpha, float beta) {
        chunks(par, count, (lo, hi) -> {
            long i = lo;
            for (; i + V <= hi; i += V)
                FloatVector.fromMemorySegment(S, x, i * 4, LE).fma(alpha, beta).intoMemorySegment(y, i * 4, LE);
            for (; i < hi; i++) y.set(F, i * 4, alpha * x.get(F, i * 4) + beta);
        });
    }

    /** s[0, count) = value, in parallel chunks (zero: memset). */
    public static void fill(Parallel par, MemorySegment s, long count, float value) {
        chunks(par, count, (lo, hi) -> {
            MemorySegment part = s.asSlice(lo * 4, (hi - lo) * 4);
            if (Float.floatToRawIntBits(value) == 0) {
                part.fill((byte) 0);
                return;
            }
            FloatVector v = FloatVector.broadcast(S, value);
            long i = 0, n = hi - lo;
            for (; i + V <= n; i += V) v.intoMemorySegment(part, i * 4, LE);
            for (; i < n; i++) part.set(F, i * 4, value);
        });
    }

    // ------------------------------------------------------------------ binary

    static float apply(BinaryOp op, float a, float b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    /** out[i] = a[i . as] op b[i . bs] over shape; rows = all axes but the last, vectorised along the last. */
    public static void binary(Parallel par, BinaryOp op, MemorySegment a, long[] as, MemorySegment b, long[] bs,
                              MemorySegment out, int[] shape) {
        int r = shape.length;
        if (r == 0) { out.set(F, 0, apply(op, a.get(F, 0), b.get(F, 0))); return; }
        int inner = shape[r - 1];
        long rows = 1;
        for (int i = 0; i < r - 1; i++) rows *= shape[i];
        long sa = as[r - 1], sb = bs[r - 1];
        long rowsF = rows;
        int tasks = par.tasks(rows * inner, CHUNK);
        par.run(tasks, t -> {
            long r0 = rowsF * t / tasks, r1 = rowsF * (t + 1) / tasks;
            int[] idx = new int[r];
            for (long row = r0; row < r1; row++) {
                // decompose row into indices of the leading axes
                long rem = row, ao = 0, bo = 0;
                for (int k = r - 2; k >= 0; k--) {
                    int i = (int) (rem % shape[k]);
                    rem /= shape[k];
                    ao += i * as[k];
                    bo += i * bs[k];
                }
                row(op, a, ao, sa, b, bo, sb, out, row * inner, inner);
            }
        });
    }

    /** One row of a strided op: element offsets of each operand at the row's start, the output's row start. */
    @FunctionalInterface
    private interface StridedRow {
        void run(long[] offsets, long out, int n);
    }

    /**
     * The row walk of {@link #binary} for any number of operands: rows of the last axis split
     * across the workers, leading indices decomposed once per row, one offsets array per worker.
     */
    private static void rows(Parallel par, int[] shape, long[][] strides, StridedRow body) {
        int r = shape.length, ops = strides.length;
        if (r == 0) { body.run(new long[ops], 0, 1); return; }
        int inner = shape[r - 1];
        long rows = 1;
        for (int i = 0; i < r - 1; i++) rows *= shape[i];
        long rowsF = rows;
        int tasks = par.tasks(rows * inner, CHUNK);
        par.run(tasks, t -> {
            long r0 = rowsF * t / tasks, r1 = rowsF * (t + 1) / tasks;
            long[] off = new long[ops];
            for (long row = r0; row < r1; row++) {
                java.util.Arrays.fill(off, 0);
                long rem = row;
                for (int k = r - 2; k >= 0; k--) {
                    int i = (int) (rem % shape[k]);
                    rem /= shape[k];
                    for (int o = 0; o < ops; o++) off[o] += i * strides[o][k];
                }
                body.run(off, row * inner, inner);
            }
        });
    }

    /** out = (a op b) ? 1 : 0; scalar within a row: masks are built once per backward step, not in the model's hot loops. */
    public static void compare(Parallel par, CompareOp op, MemorySegment a, long[] as, MemorySegment b, long[] bs,
                               MemorySegment out, int[] shape) {
        int r = shape.length;
        long sa = r == 0 ? 0 : as[r - 1], sb = r == 0 ? 0 : bs[r - 1];
        rows(par, shape, new long[][] {as, bs}, (off, oo, n) -> {
            long ao = off[0], bo = off[1];
            for (int j = 0; j < n; j++)
                out.set(F, (oo + j) * 4, op.test(a.get(F, (ao + j * sa) * 4), b.get(F, (bo + j * sb) * 4)) ? 1f : 0f);
        });
    }

    /** out = c != 0 ? a : b, reading only the operand picked. */
    public static void select(Parallel par, MemorySegment c, long[] cs, MemorySegment a, long[] as, MemorySegment b, long[] bs,
                              MemorySegment out, int[] shape) {
        int r = shape.length;
        long sc = r == 0 ? 0 : cs[r - 1], sa = r == 0 ? 0 : as[r - 1], sb = r == 0 ? 0 : bs[r - 1];
        rows(par, shape, new long[][] {cs, as, bs}, (off, oo, n) -> {
            long co = off[0], ao = off[1], bo = off[2];
            for (int j = 0; j < n; j++)
                out.set(F, (oo + j) * 4, c.get(F, (co + j * sc) * 4) != 0f ? a.get(F, (ao + j * sa) * 4) : b.get(F, (bo + j * sb) * 4));
        });
    }

    /**
     * One row, vectorised when each operand is contiguous or one value (stride 1 or 0), else
     * element by element. Each op has its own vector loop (a lambda, compiled on its own, as for the
     * unary ops): with the op switched inside one shared loop, C2 compiled it for the ops seen first
     * and the others ran 2-3x slower. An operand of stride 0 is one broadcast vector.
     */
    private static void row(BinaryOp op, MemorySegment a, long ao, long sa, MemorySegment b, long bo, long sb,
                            MemorySegment out, long oo, int n) {
        int j = (sa == 1 || sa == 0) && (sb == 1 || sb == 0) && (sa | sb) != 0
                ? ROWS[op.ordinal()].run(a, ao * 4, sa * 4, b, bo * 4, sb * 4, out, oo * 4, n) : 0;
        for (; j < n; j++) out.set(F, (oo + j) * 4, apply(op, a.get(F, (ao + j * sa) * 4), b.get(F, (bo + j * sb) * 4)));
    }

    /** A vector loop over a row (offsets and strides in bytes, stride 0: one value); returns the elements done. */
    @FunctionalInterface
    private interface VectorRow {
        int run(MemorySegment a, long ab, long ai, MemorySegment b, long bb, long bi, MemorySegment out, long ob, int n);
    }

    private static final VectorRow[] ROWS = java.util.Arrays.stream(BinaryOp.values()).map(Elementwise::vectorRow).toArray(VectorRow[]::new);

    /** The op's vector loop (x, y: the operands' vectors; an exhaustive switch, so a new BinaryOp cannot lack one). */
    private static VectorRow vectorRow(BinaryOp op) {
        return switch (op) {
            case ADD -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).add(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
            case SUB -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).sub(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
            case MUL -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).mul(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
            case DIV -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).div(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
            case MAX -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).max(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
            case MIN -> (a, ab, ai, b, bb, bi, o, ob, n) -> { FloatVector x = FloatVector.broadcast(S, a.get(F, ab)), y = FloatVector.broadcast(S, b.get(F, bb)); int j = 0;
                for (; j <= n - V; j += V) (ai == 0 ? x : FloatVector.fromMemorySegment(S, a, ab + j * ai, LE)).min(bi == 0 ? y : FloatVector.fromMemorySegment(S, b, bb + j * bi, LE)).intoMemorySegment(o, ob + j * 4L, LE); return j; };
        };
    }


    // ------------------------------------------------------------------ copy

    public static void copy(Parallel par, MemorySegment src, long so, long[] ss, MemorySegment dst, long dOff, long[] ds, int[] shape) {
        int r = shape.length;
        if (r == 0) { dst.set(F, dOff * 4, src.get(F, so * 4)); return; }
        int inner = shape[r - 1];
        long rows = 1;
        for (int i = 0; i < r - 1; i++) rows *= shape[i];
        long si = ss[r - 1], di = ds[r - 1], rowsF = rows;
        int tasks = par.tasks(rows * inner, CHUNK);
        par.run(tasks, t -> {
            long r0 = rowsF * t / tasks, r1 = rowsF * (t + 1) / tasks;
            if (r0 >= r1) return;
            // The outer index is decoded once per task and then advanced like an odometer: decoding it
            // for every row (a division per axis) dominated copies with short rows, such as the [.., w, 2]
            // rows of a nearest 2x upsampling.
            int[] idx = new int[Math.max(1, r - 1)];
            long rem = r0, s = so, d = dOff;
            for (int k = r - 2; k >= 0; k--) {
                idx[k] = (int) (rem % shape[k]);
                rem /= shape[k];
                s += idx[k] * ss[k];
                d += idx[k] * ds[k];
            }
            for (long row = r0; row < r1; row++) {
                if (si == 1 && di == 1) {
                    MemorySegment.copy(src, s * 4, dst, d * 4, inner * 4L);
                } else if (si == 0 && di == 1) {
                    float v = src.get(F, s * 4);
                    for (int j = 0; j < inner; j++) dst.set(F, (d + j) * 4, v);
                } else {
                    for (int j = 0; j < inner; j++) dst.set(F, (d + j * di) * 4, src.get(F, (s + j * si) * 4));
                }
                for (int k = r - 2; k >= 0; k--) {
                    s += ss[k];
                    d += ds[k];
                    if (++idx[k] < shape[k]) break;
                    s -= shape[k] * ss[k];
                    d -= shape[k] * ds[k];
                    idx[k] = 0;
                }
            }
        });
    }
}
