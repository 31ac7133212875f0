package org.example.sisma.minimal;

import org.osgi.service.component.annotations.Component;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * A compute backend that starts small: heap float arrays and plain loops for just what
 * {@link Backend} requires (memory, the strided copy, GEMM, unary, binary, compare, select,
 * reduce). Softmax, the norms, convolutions, the selective scan, AdamW, random numbers and every
 * backward are the SPI's default composites, built from these. A real device backend would start
 * the same way and then override the ops that matter for speed.
 * <p>Registered as {@code minimal} with a low ranking, so it is used only when asked for
 * ({@code ./sisma generate --backend minimal}). Single-threaded and unvectorised: correct, slow.
 */
@Component(service = Backend.class, property = {Backend.NAME_PROPERTY + "=minimal", "service.ranking:Integer=-100"})
public final class MinimalBackend implements Backend {

    /** A buffer: a heap array. */
    static final class Buf implements DeviceBuffer {
        private float[] a;

        Buf(float[] a) {
            this.a = a;
        }

        float[] data() {
            if (a == null) throw new IllegalStateException("buffer is closed");
            return a;
        }

        @Override
        public long size() {
            return data().length;
        }

        @Override
        public void close() {
            a = null;
        }
    }

    private static float[] f(DeviceBuffer b) {
        return b == null ? null : ((Buf) b).data();
    }

    @Override
    public String name() {
        return "minimal";
    }

    @Override
    public String device() {
        return "heap arrays, one thread, plain loops (example plugin)";
    }

    // ------------------------------------------------------------ memory

    @Override
    public DeviceBuffer allocate(long floats) {
        return new Buf(new float[Math.toIntExact(floats)]);
    }

    @Override
    public DeviceBuffer upload(float[] src) {
        return new Buf(src.clone());
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        System.arraycopy(f(src), Math.toIntExact(srcOffset), dst, dstOffset, count);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        float[] s = f(src), d = f(dst);
        long n = count(shape);
        for (long i = 0; i < n; i++) d[(int) (dstOffset + at(i, shape, dstStrides))] = s[(int) (srcOffset + at(i, shape, srcStrides))];
    }

    // ------------------------------------------------------------ primitives

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, DeviceBuffer a, long strideA,
                     DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        float[] A = f(a), B = f(b), C = f(c), bs = f(bias);
        for (int p = 0; p < batch; p++) {
            long ao = p * strideA, bo = p * strideB, co = (long) p * m * n;
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    float acc = 0;
                    for (int t = 0; t < k; t++) {
                        acc += A[(int) (ao + (transA ? (long) t * m + i : (long) i * k + t))]
                                * B[(int) (bo + (transB ? (long) j * k + t : (long) t * n + j))];
                    }
                    int at = (int) (co + (long) i * n + j);
                    C[at] = alpha * acc + (beta == 0 ? 0 : beta * C[at]) + (bs == null ? 0 : bs[j]); // beta 0: C not read
                }
            }
        }
    }

    @Override
    public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        float[] X = f(x), Y = f(y);
        for (int i = 0; i < count; i++) Y[i] = unary(op, X[i]);
    }

    static float unary(UnaryOp op, float x) {
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
            case RELU -> Math.max(x, 0f);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    @Override
    public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        long n = count(shape);
        for (long i = 0; i < n; i++) {
            float x = A[(int) at(i, shape, aStrides)], y = B[(int) at(i, shape, bStrides)];
            O[(int) i] = switch (op) {
                case ADD -> x + y;
                case SUB -> x - y;
                case MUL -> x * y;
                case DIV -> x / y;
                case MAX -> x >= y ? x : y;
                case MIN -> x <= y ? x : y;
            };
        }
    }

    @Override
    public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        float[] A = f(a), B = f(b), O = f(out);
        long n = count(shape);
        for (long i = 0; i < n; i++) O[(int) i] = op.test(A[(int) at(i, shape, aStrides)], B[(int) at(i, shape, bStrides)]) ? 1f : 0f;
    }

    @Override
    public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                       DeviceBuffer out, int[] shape) {
        float[] C = f(cond), A = f(a), B = f(b), O = f(out);
        long n = count(shape);
        for (long i = 0; i < n; i++) {
            O[(int) i] = C[(int) at(i, shape, condStrides)] != 0 ? A[(int) at(i, shape, aStrides)] : B[(int) at(i, shape, bStrides)];
        }
    }

    @Override
    public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        float[] X = f(x), Y = f(y);
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                float acc = op == ReduceOp.MAX ? Float.NEGATIVE_INFINITY : 0;
                for (int j = 0; j < axis; j++) {
                    float v = X[(o * axis + j) * inner + i];
                    acc = op == ReduceOp.MAX ? Math.max(acc, v) : acc + v;
                }
                Y[o * inner + i] = op == ReduceOp.MEAN ? acc / axis : acc;
            }
        }
    }

    // ------------------------------------------------------------ indexing

    private static long count(int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        return n;
    }

    /** The strided position of the i-th element of {@code shape} (row-major). */
    private static long at(long i, int[] shape, long[] strides) {
        long p = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            p += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return p;
    }
}
