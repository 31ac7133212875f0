package dev.sisma.engine;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * A heap backend for the engine's own tests: the primitives composite ops in {@link Ops} are
 * built from (copy, GEMM, elementwise, compare/select, reduce, softmax), written as plainly as the
 * {@link Backend} javadoc, with double accumulation. The engine cannot depend on a real backend (they
 * depend on it); the rest are the SPI's default composites. It counts live floats and their peak, so tests can bound an op's memory.
 */
final class PlainBackend implements Backend {
    long liveFloats, peakFloats;

    final class Buf implements DeviceBuffer {
        final float[] a;
        private boolean closed;

        Buf(int n) {
            a = new float[n];
            liveFloats += n;
            peakFloats = Math.max(peakFloats, liveFloats);
        }

        @Override public long size() { return a.length; }

        @Override public void close() {
            if (!closed) { closed = true; liveFloats -= a.length; }
        }

        float[] data() {
            if (closed) throw new IllegalStateException("buffer is closed");
            return a;
        }
    }

    private static float[] f(DeviceBuffer b) { return ((Buf) b).data(); }

    /** Starts a new peak measurement from the current live size. */
    void resetPeak() { peakFloats = liveFloats; }

    @Override public String name() { return "plain-test"; }
    @Override public String device() { return "heap arrays"; }

    @Override public DeviceBuffer allocate(long floats) { return new Buf(Math.toIntExact(floats)); }

    @Override public DeviceBuffer upload(float[] src) {
        Buf b = new Buf(src.length);
        System.arraycopy(src, 0, b.a, 0, src.length);
        return b;
    }

    @Override public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        System.arraycopy(f(src), Math.toIntExact(srcOffset), dst, dstOffset, count);
    }

    @Override public void fill(DeviceBuffer dst, long offset, long count, float value) {
        java.util.Arrays.fill(f(dst), Math.toIntExact(offset), Math.toIntExact(offset + count), value);
    }

    @Override public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        float[] s = f(src), d = f(dst);
        forEach(shape, idx -> d[(int) (dstOffset + dot(idx, dstStrides))] = s[(int) (srcOffset + dot(idx, srcStrides))]);
    }

    @Override public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                               DeviceBuffer a, long strideA, DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        float[] A = f(a), B = f(b), C = f(c), bs = bias == null ? null : f(bias);
        for (int p = 0; p < batch; p++) {
            long ao = p * strideA, bo = p * strideB, co = (long) p * m * n;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int t = 0; t < k; t++)
                        acc += (double) A[(int) (ao + (transA ? (long) t * m + i : (long) i * k + t))] * B[(int) (bo + (transB ? (long) j * k + t : (long) t * n + j))];
                    int at = (int) (co + (long) i * n + j);
                    C[at] = (float) (alpha * acc + (beta == 0 ? 0 : beta * C[at]) + (bs == null ? 0 : bs[j]));
                }
        }
    }

    @Override public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        float[] X = f(x), Y = f(y);
        for (int i = 0; i < count; i++) Y[i] = switch (op) {
            case NEG -> -X[i];
            case EXP -> (float) Math.exp(X[i]);
            case SQUARE -> X[i] * X[i];
            default -> throw new UnsupportedOperationException(op.name());
        };
    }

    @Override public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        float[] X = f(x), DY = f(dy), DX = f(dx);
        for (int i = 0; i < count; i++) DX[i] = DY[i] * switch (op) {
            case NEG -> -1f;
            case EXP -> (float) Math.exp(X[i]);
            case SQUARE -> 2 * X[i];
            default -> throw new UnsupportedOperationException(op.name());
        };
    }

    @Override public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        float[] X = f(x), Y = f(y);
        for (int i = 0; i < count; i++) Y[i] = alpha * X[i] + beta;
    }

    @Override public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        long[] os = Shape.of(shape).strides();
        forEach(shape, idx -> {
            float x = A[(int) dot(idx, aStrides)], y = B[(int) dot(idx, bStrides)];
            O[(int) dot(idx, os)] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
            };
        });
    }

    @Override public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        float[] X = f(x), Y = f(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : 0;
                for (int j = 0; j < axis; j++) {
                    float v = X[(o * axis + j) * inner + i];
                    acc = op == ReduceOp.MAX ? Math.max(acc, v) : acc + v;
                }
                Y[o * inner + i] = (float) (op == ReduceOp.MEAN ? acc / axis : acc);
            }
    }

    @Override public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        float[] X = f(x), Y = f(y);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double mx = Double.NEGATIVE_INFINITY, sum = 0;
            for (int j = 0; j < cols; j++) mx = Math.max(mx, X[o + j]);
            double[] e = new double[cols];
            for (int j = 0; j < cols; j++) sum += e[j] = Math.exp(X[o + j] - mx);
            for (int j = 0; j < cols; j++) Y[o + j] = (float) (e[j] / sum);
        }
    }

    @Override public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        float[] Y = f(y), DY = f(dy), DX = f(dx);
        for (int r = 0; r < rows; r++) {
            int o = r * cols;
            double s = 0;
            for (int j = 0; j < cols; j++) s += (double) DY[o + j] * Y[o + j];
            for (int j = 0; j < cols; j++) DX[o + j] = (float) (Y[o + j] * (DY[o + j] - s));
        }
    }

    // ---------------------------------------------------------------- helpers

    private interface IndexVisitor { void visit(int[] idx); }

    private static void forEach(int[] shape, IndexVisitor v) {
        long n = 1;
        for (int s : shape) n *= s;
        int[] idx = new int[shape.length];
        for (long c = 0; c < n; c++) {
            v.visit(idx);
            for (int ax = shape.length - 1; ax >= 0; ax--) {
                if (++idx[ax] < shape[ax]) break;
                idx[ax] = 0;
            }
        }
    }

    private static long dot(int[] idx, long[] strides) {
        long s = 0;
        for (int i = 0; i < idx.length; i++) s += idx[i] * strides[i];
        return s;
    }

    @Override public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        long[] os = Shape.of(shape).strides();
        forEach(shape, idx -> O[(int) dot(idx, os)] = op.test(A[(int) dot(idx, aStrides)], B[(int) dot(idx, bStrides)]) ? 1f : 0f);
    }

    @Override public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                                 DeviceBuffer out, int[] shape) {
        float[] C = f(cond), A = f(a), B = f(b), O = f(out);
        long[] os = Shape.of(shape).strides();
        forEach(shape, idx -> O[(int) dot(idx, os)] = C[(int) dot(idx, condStrides)] != 0 ? A[(int) dot(idx, aStrides)] : B[(int) dot(idx, bStrides)]);
    }
}
