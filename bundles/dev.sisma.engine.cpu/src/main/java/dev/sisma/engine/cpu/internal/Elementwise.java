package dev.sisma.engine.cpu.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import dev.sisma.engine.spi.BinaryOp;
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

    public static void unary(Parallel par, UnaryOp op, MemorySegment x, MemorySegment y, long count) {
        chunks(par, count, (lo, hi) -> {
            long i = lo;
            for (; i + V <= hi; i += V) fwd(op, FloatVector.fromMemorySegment(S, x, i * 4, LE)).intoMemorySegment(y, i * 4, LE);
            for (; i < hi; i++) y.set(F, i * 4, fwd(op, x.get(F, i * 4)));
        });
    }

    public static void unaryBackward(Parallel par, UnaryOp op, MemorySegment x, MemorySegment dy, MemorySegment dx, long count) {
        chunks(par, count, (lo, hi) -> {
            long i = lo;
            for (; i + V <= hi; i += V)
                bwd(op, FloatVector.fromMemorySegment(S, x, i * 4, LE)).mul(FloatVector.fromMemorySegment(S, dy, i * 4, LE)).intoMemorySegment(dx, i * 4, LE);
            for (; i < hi; i++) dx.set(F, i * 4, bwd(op, x.get(F, i * 4)) * dy.get(F, i * 4));
        });
    }

    private static FloatVector inv(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(x);
    }

    static FloatVector sigmoid(FloatVector x) {
        return inv(x.neg().lanewise(VectorOperators.EXP).add(1f));
    }

    static FloatVector fwd(UnaryOp op, FloatVector x) {
        return switch (op) {
            case NEG -> x.neg();
            case EXP -> x.lanewise(VectorOperators.EXP);
            case LOG -> x.lanewise(VectorOperators.LOG);
            case SQRT -> x.sqrt();
            case RSQRT -> inv(x.sqrt());
            case ABS -> x.abs();
            case SIN -> x.lanewise(VectorOperators.SIN);
            case COS -> x.lanewise(VectorOperators.COS);
            case TANH -> x.lanewise(VectorOperators.TANH);
            case SIGMOID -> sigmoid(x);
            case SILU -> x.mul(sigmoid(x));
            case SOFTPLUS -> {
                FloatVector sp = x.lanewise(VectorOperators.EXP).lanewise(VectorOperators.LOG1P);
                yield sp.blend(x, x.compare(VectorOperators.GT, 20f));
            }
            case GELU_TANH -> {
                FloatVector inner = x.mul(x).mul(x).mul(0.044715f).add(x).mul(SQRT_2_OVER_PI);
                yield x.mul(0.5f).mul(inner.lanewise(VectorOperators.TANH).add(1f));
            }
            case RELU -> x.max(0f);
            case SQUARE -> x.mul(x);
            case RECIPROCAL -> inv(x);
        };
    }

    static FloatVector bwd(UnaryOp op, FloatVector x) {
        return switch (op) {
            case NEG -> FloatVector.broadcast(S, -1f);
            case EXP -> x.lanewise(VectorOperators.EXP);
            case LOG -> inv(x);
            case SQRT -> inv(x.sqrt().mul(2f));
            case RSQRT -> inv(x.sqrt().mul(x).mul(-2f));
            case ABS -> FloatVector.zero(S).blend(1f, x.compare(VectorOperators.GT, 0f)).blend(-1f, x.compare(VectorOperators.LT, 0f));
            case SIN -> x.lanewise(VectorOperators.COS);
            case COS -> x.lanewise(VectorOperators.SIN).neg();
            case TANH -> { FloatVector t = x.lanewise(VectorOperators.TANH); yield t.mul(t).neg().add(1f); }
            case SIGMOID -> { FloatVector s = sigmoid(x); yield s.mul(s.neg().add(1f)); }
            case SILU -> { FloatVector s = sigmoid(x); yield s.mul(x.mul(s.neg().add(1f)).add(1f)); }
            case SOFTPLUS -> sigmoid(x).blend(1f, x.compare(VectorOperators.GT, 20f));
            case GELU_TANH -> {
                FloatVector x2 = x.mul(x);
                FloatVector t = x2.mul(0.044715f).add(1f).mul(x).mul(SQRT_2_OVER_PI).lanewise(VectorOperators.TANH);
                FloatVector dinner = x2.mul(3 * 0.044715f).add(1f).mul(SQRT_2_OVER_PI);
                yield t.add(1f).mul(0.5f).add(x.mul(0.5f).mul(t.mul(t).neg().add(1f)).mul(dinner));
            }
            case RELU -> FloatVector.zero(S).blend(1f, x.compare(VectorOperators.GT, 0f));
            case SQUARE -> x.mul(2f);
            case RECIPROCAL -> inv(x.mul(x)).neg();
        };
    }

    public static float fwd(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> (float) Math.exp(x);
            case LOG -> (float) Math.log(x);
            case SQRT -> (float) Math.sqrt(x);
            case RSQRT -> (float) (1 / Math.sqrt(x));
            case ABS -> Math.abs(x);
            case SIN -> (float) Math.sin(x);
            case COS -> (float) Math.cos(x);
            case TANH -> (float) Math.tanh(x);
            case SIGMOID -> (float) (1 / (1 + Math.exp(-x)));
            case SILU -> (float) (x / (1 + Math.exp(-x)));
            case SOFTPLUS -> x > 20f ? x : (float) Math.log1p(Math.exp(x));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(x, 0f);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1f / x;
        };
    }

    public static float bwd(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -1f;
            case EXP -> (float) Math.exp(x);
            case LOG -> 1f / x;
            case SQRT -> (float) (0.5 / Math.sqrt(x));
            case RSQRT -> (float) (-0.5 / (x * Math.sqrt(x)));
            case ABS -> Math.signum(x);
            case SIN -> (float) Math.cos(x);
            case COS -> (float) -Math.sin(x);
            case TANH -> { double t = Math.tanh(x); yield (float) (1 - t * t); }
            case SIGMOID -> { double s = 1 / (1 + Math.exp(-x)); yield (float) (s * (1 - s)); }
            case SILU -> { double s = 1 / (1 + Math.exp(-x)); yield (float) (s * (1 + x * (1 - s))); }
            case SOFTPLUS -> x > 20f ? 1f : (float) (1 / (1 + Math.exp(-x)));
            case GELU_TANH -> {
                double t = Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x));
                yield (float) (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * SQRT_2_OVER_PI * (1 + 3 * 0.044715 * x * x));
            }
            case RELU -> x > 0 ? 1f : 0f;
            case SQUARE -> 2 * x;
            case RECIPROCAL -> -1f / (x * x);
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

    static FloatVector apply(BinaryOp op, FloatVector a, FloatVector b) {
        return switch (op) {
            case ADD -> a.add(b);
            case SUB -> a.sub(b);
            case MUL -> a.mul(b);
            case DIV -> a.div(b);
            case MAX -> a.max(b);
            case MIN -> a.min(b);
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

    private static void row(BinaryOp op, MemorySegment a, long ao, long sa, MemorySegment b, long bo, long sb,
                            MemorySegment out, long oo, int n) {
        int j = 0;
        if (sa == 1 && sb == 1) {
            for (; j + V <= n; j += V)
                apply(op, FloatVector.fromMemorySegment(S, a, (ao + j) * 4, LE), FloatVector.fromMemorySegment(S, b, (bo + j) * 4, LE)).intoMemorySegment(out, (oo + j) * 4, LE);
        } else if (sa == 1 && sb == 0) {
            FloatVector bv = FloatVector.broadcast(S, b.get(F, bo * 4));
            for (; j + V <= n; j += V)
                apply(op, FloatVector.fromMemorySegment(S, a, (ao + j) * 4, LE), bv).intoMemorySegment(out, (oo + j) * 4, LE);
        } else if (sa == 0 && sb == 1) {
            FloatVector av = FloatVector.broadcast(S, a.get(F, ao * 4));
            for (; j + V <= n; j += V)
                apply(op, av, FloatVector.fromMemorySegment(S, b, (bo + j) * 4, LE)).intoMemorySegment(out, (oo + j) * 4, LE);
        }
        for (; j < n; j++) out.set(F, (oo + j) * 4, apply(op, a.get(F, (ao + j * sa) * 4), b.get(F, (bo + j * sb) * 4)));
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
            for (long row = r0; row < r1; row++) {
                long rem = row, s = so, d = dOff;
                for (int k = r - 2; k >= 0; k--) {
                    int i = (int) (rem % shape[k]);
                    rem /= shape[k];
                    s += i * ss[k];
                    d += i * ds[k];
                }
                if (si == 1 && di == 1) {
                    MemorySegment.copy(src, s * 4, dst, d * 4, inner * 4L);
                } else if (si == 0 && di == 1) {
                    float v = src.get(F, s * 4);
                    for (int j = 0; j < inner; j++) dst.set(F, (d + j) * 4, v);
                } else {
                    for (int j = 0; j < inner; j++) dst.set(F, (d + j * di) * 4, src.get(F, (s + j * si) * 4));
                }
            }
        });
    }
}
