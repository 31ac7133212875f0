package dev.sisma.engine.testkit;

import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * Definitional reference implementations of the {@link dev.sisma.engine.spi.Backend} primitives,
 * in double precision, written as plainly as the javadoc contracts (loops, no tricks). Backward
 * references are obtained by central finite differences of these forwards ({@link #numericGrad}).
 */
public final class Reference {
    private Reference() {}

    /** A function of several inputs returning one output, in double. */
    @FunctionalInterface
    public interface Fn {
        double[] apply(double[][] in);
    }

    /** d(sum(dy . f(in)))/d in[which], central differences with step h (relative to max(1, |x|)). */
    public static double[] numericGrad(Fn f, double[][] in, double[] dy, int which, double h) {
        double[] x = in[which], g = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            double keep = x[i], step = h * Math.max(1, Math.abs(keep));
            x[i] = keep + step;
            double up = dot(dy, f.apply(in));
            x[i] = keep - step;
            double dn = dot(dy, f.apply(in));
            x[i] = keep;
            g[i] = (up - dn) / (2 * step);
        }
        return g;
    }

    public static double dot(double[] a, double[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) s += a[i] * b[i];
        return s;
    }

    public static double[] d(float[] x) {
        double[] o = new double[x.length];
        for (int i = 0; i < x.length; i++) o[i] = x[i];
        return o;
    }

    public static double unary(UnaryOp op, double x) {
        return switch (op) {
            case NEG -> -x;
            case EXP -> Math.exp(x);
            case LOG -> Math.log(x);
            case SQRT -> Math.sqrt(x);
            case RSQRT -> 1 / Math.sqrt(x);
            case ABS -> Math.abs(x);
            case SIN -> Math.sin(x);
            case COS -> Math.cos(x);
            case TANH -> Math.tanh(x);
            case SIGMOID -> 1 / (1 + Math.exp(-x));
            case SILU -> x / (1 + Math.exp(-x));
            case SOFTPLUS -> x > 20 ? x : Math.log1p(Math.exp(x));
            case GELU_TANH -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
            case RELU -> Math.max(x, 0);
            case SQUARE -> x * x;
            case RECIPROCAL -> 1 / x;
        };
    }

    public static double binary(BinaryOp op, double a, double b) {
        return switch (op) {
            case ADD -> a + b;
            case SUB -> a - b;
            case MUL -> a * b;
            case DIV -> a / b;
            case MAX -> Math.max(a, b);
            case MIN -> Math.min(a, b);
        };
    }

    /** Strided read of the element at multi-index {@code idx}. */
    private static long offset(int[] idx, long[] strides) {
        long o = 0;
        for (int i = 0; i < idx.length; i++) o += idx[i] * strides[i];
        return o;
    }

    private static boolean next(int[] idx, int[] shape) {
        for (int k = idx.length - 1; k >= 0; k--) {
            if (++idx[k] < shape[k]) return true;
            idx[k] = 0;
        }
        return false;
    }

    private static long count(int[] shape) {
        long c = 1;
        for (int s : shape) c *= s;
        return c;
    }

    public static double[] binary(BinaryOp op, double[] a, long[] as, double[] b, long[] bs, int[] shape) {
        double[] out = new double[(int) count(shape)];
        int[] idx = new int[shape.length];
        int i = 0;
        if (out.length == 0) return out;
        do out[i++] = binary(op, a[(int) offset(idx, as)], b[(int) offset(idx, bs)]); while (next(idx, shape));
        return out;
    }

    public static void copy(float[] src, long so, long[] ss, float[] dst, long dOff, long[] ds, int[] shape) {
        if (count(shape) == 0) return;
        int[] idx = new int[shape.length];
        do dst[(int) (dOff + offset(idx, ds))] = src[(int) (so + offset(idx, ss))]; while (next(idx, shape));
    }

    /** C = alpha op(A) op(B) + beta C + bias, per batch (see Backend#gemm). */
    public static double[] gemm(boolean ta, boolean tb, int batch, int m, int n, int k, double alpha, double[] a, long sa,
                                double[] b, long sb, double beta, double[] c, double[] bias) {
        double[] out = new double[batch * m * n];
        for (int p = 0; p < batch; p++)
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int q = 0; q < k; q++) {
                        double av = a[(int) (p * sa + (ta ? q * m + i : i * k + q))];
                        double bv = b[(int) (p * sb + (tb ? j * k + q : q * n + j))];
                        s += av * bv;
                    }
                    int o = (p * m + i) * n + j;
                    out[o] = alpha * s + (beta == 0 ? 0 : beta * c[o]) + (bias == null ? 0 : bias[j]);
                }
        return out;
    }

    public static double[] reduce(ReduceOp op, double[] x, int outer, int axis, int inner) {
        double[] y = new double[outer * inner];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < inner; i++) {
                double acc = op == ReduceOp.MAX ? Double.NEGATIVE_INFINITY : 0;
                for (int j = 0; j < axis; j++) {
                    double v = x[(o * axis + j) * inner + i];
                    acc = op == ReduceOp.MAX ? Math.max(acc, v) : acc + v;
                }
                y[o * inner + i] = op == ReduceOp.MEAN ? acc / axis : acc;
            }
        return y;
    }

    public static double[] softmax(double[] x, int rows, int cols) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double m = Double.NEGATIVE_INFINITY, s = 0;
            for (int j = 0; j < cols; j++) m = Math.max(m, x[r * cols + j]);
            for (int j = 0; j < cols; j++) s += Math.exp(x[r * cols + j] - m);
            for (int j = 0; j < cols; j++) y[r * cols + j] = Math.exp(x[r * cols + j] - m) / s;
        }
        return y;
    }

    /** LayerNorm; gamma/beta may be null. */
    public static double[] layerNorm(double[] x, double[] gamma, double[] beta, int rows, int cols, double eps) {
        double[] y = new double[x.length];
        for (int r = 0; r < rows; r++) {
            double mu = 0, var = 0;
            for (int j = 0; j < cols; j++) mu += x[r * cols + j];
            mu /= cols;
            for (int j = 0; j < cols; j++) var += (x[r * cols + j] - mu) * (x[r * cols + j] - mu);
            var /= cols;
            for (int j = 0; j < cols; j++) {
                double v = (x[r * cols + j] - mu) / Math.sqrt(var + eps);
                y[r * cols + j] = v * (gamma == null ? 1 : gamma[j]) + (beta == null ? 0 : beta[j]);
            }
        }
        return y;
    }

    public static double[] groupNorm(double[] x, double[] gamma, double[] beta, int n, int c, int hw, int groups, double eps) {
        double[] y = new double[x.length];
        int cg = c / groups, len = cg * hw;
        for (int s = 0; s < n; s++)
            for (int g = 0; g < groups; g++) {
                int base = (s * c + g * cg) * hw;
                double mu = 0, var = 0;
                for (int j = 0; j < len; j++) mu += x[base + j];
                mu /= len;
                for (int j = 0; j < len; j++) var += (x[base + j] - mu) * (x[base + j] - mu);
                var /= len;
                for (int j = 0; j < len; j++) {
                    int ch = g * cg + j / hw;
                    y[base + j] = (x[base + j] - mu) / Math.sqrt(var + eps) * (gamma == null ? 1 : gamma[ch]) + (beta == null ? 0 : beta[ch]);
                }
            }
        return y;
    }

    public static double[] conv2d(double[] x, double[] w, double[] bias, int n, int cin, int h, int wd, int cout, int kh, int kw, int stride, int pad) {
        int oh = (h + 2 * pad - kh) / stride + 1, ow = (wd + 2 * pad - kw) / stride + 1;
        double[] y = new double[n * cout * oh * ow];
        for (int s = 0; s < n; s++)
            for (int co = 0; co < cout; co++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++) {
                        double acc = bias == null ? 0 : bias[co];
                        for (int ci = 0; ci < cin; ci++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++) {
                                    int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
                                    if (iy < 0 || iy >= h || ix < 0 || ix >= wd) continue;
                                    acc += x[((s * cin + ci) * h + iy) * wd + ix] * w[((co * cin + ci) * kh + ky) * kw + kx];
                                }
                        y[((s * cout + co) * oh + oy) * ow + ox] = acc;
                    }
        return y;
    }

    public static double[] dwConv1d(double[] x, double[] w, double[] bias, int b, int l, int c, int k) {
        double[] y = new double[b * l * c];
        for (int bi = 0; bi < b; bi++)
            for (int t = 0; t < l; t++)
                for (int ch = 0; ch < c; ch++) {
                    double acc = bias == null ? 0 : bias[ch];
                    for (int j = 0; j < k; j++) {
                        int src = t - (k - 1) + j;
                        if (src >= 0) acc += w[ch * k + j] * x[(bi * l + src) * c + ch];
                    }
                    y[(bi * l + t) * c + ch] = acc;
                }
        return y;
    }

    /** The Mamba-1 selective scan exactly as Backend#selectiveScan defines it (d may be null). */
    public static double[] selectiveScan(double[] u, double[] delta, double[] a, double[] bm, double[] cm, double[] d,
                                         int b, int l, int e, int n) {
        double[] y = new double[b * l * e];
        for (int bi = 0; bi < b; bi++)
            for (int ch = 0; ch < e; ch++) {
                double[] h = new double[n];
                for (int t = 0; t < l; t++) {
                    int r = (bi * l + t) * e + ch, bc = (bi * l + t) * n;
                    double acc = 0;
                    for (int s = 0; s < n; s++) {
                        h[s] = Math.exp(delta[r] * a[ch * n + s]) * h[s] + delta[r] * bm[bc + s] * u[r];
                        acc += cm[bc + s] * h[s];
                    }
                    y[r] = acc + (d == null ? 0 : d[ch]) * u[r];
                }
            }
        return y;
    }

    /** One AdamW step in double (PyTorch's formula); updates p, m, v in place. */
    public static void adamw(double[] p, double[] g, double[] m, double[] v, double lr, double b1, double b2, double eps, double wd, long step) {
        for (int i = 0; i < p.length; i++) {
            p[i] -= lr * wd * p[i];
            m[i] = b1 * m[i] + (1 - b1) * g[i];
            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
            double mh = m[i] / (1 - Math.pow(b1, step)), vh = v[i] / (1 - Math.pow(b2, step));
            p[i] -= lr * mh / (Math.sqrt(vh) + eps);
        }
    }
}
