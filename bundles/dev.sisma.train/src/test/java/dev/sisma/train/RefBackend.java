package dev.sisma.train;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.Philox;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * A small single-threaded heap backend with just the primitives the optimizer, the checkpoint and
 * the tiny test model use, so the trainer's tests do not depend on the CPU backend's progress.
 * Every op is deterministic (sequential sums).
 */
final class RefBackend implements Backend {
    static class Buf implements DeviceBuffer {
        final float[] a;
        boolean closed;

        Buf(int n) { a = new float[n]; }

        @Override public long size() { return a.length; }

        @Override public void close() { closed = true; }
    }

    /** Buffers allocated and not closed (to check that steps do not leak). */
    int live;

    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private float[] f(DeviceBuffer b) {
        Buf x = (Buf) b;
        if (x.closed) throw new IllegalStateException("closed buffer");
        return x.a;
    }

    @Override public String name() { return "ref"; }

    @Override public String device() { return "test reference"; }

    @Override public DeviceBuffer allocate(long floats) {
        live++;
        return new Buf(Math.toIntExact(floats)) {
            @Override public void close() { if (!closed) live--; super.close(); }
        };
    }

    @Override public DeviceBuffer upload(float[] src) {
        DeviceBuffer b = allocate(src.length);
        System.arraycopy(src, 0, f(b), 0, src.length);
        return b;
    }

    @Override public DeviceBuffer upload(MemorySegment src) {
        DeviceBuffer b = allocate(src.byteSize() / 4);
        float[] a = f(b);
        for (int i = 0; i < a.length; i++) a[i] = src.getAtIndex(LE, i);
        return b;
    }

    @Override public DeviceBuffer map(MemorySegment src) { return upload(src); }

    @Override public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        System.arraycopy(f(src), (int) srcOffset, dst, dstOffset, count);
    }

    @Override public void download(DeviceBuffer src, MemorySegment dst) {
        float[] a = f(src);
        for (int i = 0; i < a.length; i++) dst.setAtIndex(LE, i, a[i]);
    }

    @Override public void fill(DeviceBuffer dst, long offset, long count, float value) {
        java.util.Arrays.fill(f(dst), (int) offset, (int) (offset + count), value);
    }

    @Override public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset,
                               long[] dstStrides, int[] shape) {
        float[] s = f(src), d = f(dst);
        int r = shape.length;
        int[] idx = new int[r];
        long total = 1;
        for (int n : shape) total *= n;
        for (long k = 0; k < total; k++) {
            long so = srcOffset, doff = dstOffset;
            for (int j = 0; j < r; j++) { so += idx[j] * srcStrides[j]; doff += idx[j] * dstStrides[j]; }
            d[(int) doff] = s[(int) so];
            for (int j = r - 1; j >= 0; j--) { if (++idx[j] < shape[j]) break; idx[j] = 0; }
        }
    }

    @Override public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha,
                               DeviceBuffer a, long strideA, DeviceBuffer b, long strideB, float beta,
                               DeviceBuffer c, DeviceBuffer bias) {
        float[] A = f(a), B = f(b), C = f(c), bi = bias == null ? null : f(bias);
        for (int p = 0; p < batch; p++) {
            int ao = (int) (p * strideA), bo = (int) (p * strideB), co = p * m * n;
            for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
                float s = 0;
                for (int q = 0; q < k; q++) {
                    float av = transA ? A[ao + q * m + i] : A[ao + i * k + q];
                    float bv = transB ? B[bo + j * k + q] : B[bo + q * n + j];
                    s += av * bv;
                }
                float v = alpha * s + (beta == 0 ? 0 : beta * C[co + i * n + j]) + (bi == null ? 0 : bi[j]);
                C[co + i * n + j] = v;
            }
        }
    }

    private static float un(UnaryOp op, float x) {
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
            case SOFTPLUS -> x > 20 ? x : (float) Math.log1p(Math.exp(x));
            case GELU_TANH -> (float) (0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))));
            case RELU -> Math.max(x, 0);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    private static float der(UnaryOp op, float x) {
        return switch (op) {
            case NEG -> -1;
            case EXP -> (float) Math.exp(x);
            case LOG -> 1 / x;
            case SQRT -> (float) (0.5 / Math.sqrt(x));
            case RSQRT -> (float) (-0.5 * Math.pow(x, -1.5));
            case ABS -> Math.signum(x);
            case SIN -> (float) Math.cos(x);
            case COS -> (float) -Math.sin(x);
            case TANH -> { double t = Math.tanh(x); yield (float) (1 - t * t); }
            case SIGMOID -> { double s = 1 / (1 + Math.exp(-x)); yield (float) (s * (1 - s)); }
            case SILU -> { double s = 1 / (1 + Math.exp(-x)); yield (float) (s * (1 + x * (1 - s))); }
            case SOFTPLUS -> (float) (1 / (1 + Math.exp(-x)));
            case RELU -> x > 0 ? 1 : 0;
            case SQUARE -> 2 * x;
            case RECIPROCAL -> -1 / (x * x);
            case GELU_TANH -> {
                double c = Math.sqrt(2 / Math.PI), u = c * (x + 0.044715 * x * x * x), t = Math.tanh(u);
                yield (float) (0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x));
            }
        };
    }

    @Override public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        float[] X = f(x), Y = f(y);
        for (int i = 0; i < count; i++) Y[i] = un(op, X[i]);
    }

    @Override public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        float[] X = f(x), D = f(dy), O = f(dx);
        for (int i = 0; i < count; i++) O[i] = D[i] * der(op, X[i]);
    }

    @Override public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        float[] X = f(x), Y = f(y);
        for (int i = 0; i < count; i++) Y[i] = alpha * X[i] + beta;
    }

    @Override public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                                 DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        int r = shape.length;
        int[] idx = new int[r];
        long total = 1;
        for (int n : shape) total *= n;
        for (int k = 0; k < total; k++) {
            long ao = 0, bo = 0;
            for (int j = 0; j < r; j++) { ao += idx[j] * aStrides[j]; bo += idx[j] * bStrides[j]; }
            float x = A[(int) ao], y = B[(int) bo];
            O[k] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAX -> Math.max(x, y);
                case MIN -> Math.min(x, y);
            };
            for (int j = r - 1; j >= 0; j--) { if (++idx[j] < shape[j]) break; idx[j] = 0; }
        }
    }

    @Override public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        long n = 1;
        for (int s : shape) n *= s;
        for (int i = 0; i < n; i++) O[i] = op.test(A[(int) at(i, shape, aStrides)], B[(int) at(i, shape, bStrides)]) ? 1f : 0f;
    }

    @Override public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                                 DeviceBuffer out, int[] shape) {
        float[] C = f(cond), A = f(a), B = f(b), O = f(out);
        long n = 1;
        for (int s : shape) n *= s;
        for (int i = 0; i < n; i++) O[i] = C[(int) at(i, shape, condStrides)] != 0 ? A[(int) at(i, shape, aStrides)] : B[(int) at(i, shape, bStrides)];
    }

    /** The strided position of the i-th element (row-major over shape). */
    private static long at(long i, int[] shape, long[] strides) {
        long p = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            p += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return p;
    }

    @Override public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        float[] X = f(x), Y = f(y);
        for (int o = 0; o < outer; o++) for (int i = 0; i < inner; i++) {
            float s = op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : 0;
            for (int j = 0; j < axis; j++) {
                float v = X[(o * axis + j) * inner + i];
                s = op == ReduceOp.MAX ? Math.max(s, v) : s + v;
            }
            Y[o * inner + i] = op == ReduceOp.MEAN ? s / axis : s;
        }
    }

    @Override public void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                                float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        float[] P = f(param), G = f(grad), M = f(m), V = f(v);
        float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        for (int i = 0; i < count; i++) {
            P[i] -= lr * weightDecay * P[i];
            M[i] = beta1 * M[i] + (1 - beta1) * G[i];
            V[i] = beta2 * V[i] + (1 - beta2) * G[i] * G[i];
            P[i] -= lr * (M[i] / bc1) / ((float) Math.sqrt(V[i] / bc2) + eps);
        }
    }

    @Override public void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        float[] D = f(dst);
        for (int i = 0; i < count; i++) D[i] = Philox.uniformAt(seed, offset, i);
    }

    @Override public void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        float[] D = f(dst);
        for (int i = 0; i < count; i++) D[i] = Philox.normalAt(seed, offset, i);
    }

    // ---------------------------------------------------------------- not needed by these tests

    private static UnsupportedOperationException no() { return new UnsupportedOperationException("not in the test backend"); }

    @Override public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) { throw no(); }
    @Override public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) { throw no(); }
    @Override public void layerNorm(DeviceBuffer x, DeviceBuffer g, DeviceBuffer b, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int rows, int cols, float eps) { throw no(); }
    @Override public void layerNormBackward(DeviceBuffer x, DeviceBuffer g, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dg, DeviceBuffer db, int rows, int cols) { throw no(); }
    @Override public void groupNorm(DeviceBuffer x, DeviceBuffer g, DeviceBuffer b, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) { throw no(); }
    @Override public void groupNormBackward(DeviceBuffer x, DeviceBuffer g, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dg, DeviceBuffer db, int n, int c, int hw, int groups) { throw no(); }
    @Override public void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) { throw no(); }
    @Override public void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) { throw no(); }
    @Override public void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) { throw no(); }
    @Override public void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, int b, int l, int c, int k) { throw no(); }
    @Override public void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw, DeviceBuffer dbias, int b, int l, int c, int k) { throw no(); }
    @Override public void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) { throw no(); }
    @Override public void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) { throw no(); }
    @Override public void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d, DeviceBuffer y, int b, int l, int e, int n) { throw no(); }
    @Override public void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d, DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da, DeviceBuffer dbm, DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) { throw no(); }
}
