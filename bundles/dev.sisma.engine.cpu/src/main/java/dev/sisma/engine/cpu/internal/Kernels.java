package dev.sisma.engine.cpu.internal;

import static dev.sisma.engine.cpu.internal.Elementwise.F;
import static dev.sisma.engine.cpu.internal.Elementwise.LE;
import static dev.sisma.engine.cpu.internal.Elementwise.S;
import static dev.sisma.engine.cpu.internal.Elementwise.V;

import java.lang.foreign.MemorySegment;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.Philox;
import dev.sisma.engine.spi.ReduceOp;

/**
 * Reductions, normalisations, convolutions, indexing, AdamW and random numbers. Row-parallel;
 * statistics accumulate in double (rows up to a few thousand elements: cheap, and float32-exact
 * results whatever the row length).
 */
public final class Kernels {
    private Kernels() {}

    private static float get(MemorySegment s, long i) { return s.get(F, i * 4); }

    private static void set(MemorySegment s, long i, float v) { s.set(F, i * 4, v); }

    /** Runs rows [0, rows) in parallel chunks of about minWork elements. */
    private static void rows(Parallel par, long rows, long perRow, RowBody body) {
        int tasks = par.tasks(rows * Math.max(1, perRow), 1 << 14);
        tasks = (int) Math.min(tasks, rows);
        int tf = tasks;
        par.run(tasks, t -> {
            long r0 = rows * t / tf, r1 = rows * (t + 1) / tf;
            for (long r = r0; r < r1; r++) body.row(r);
        });
    }

    @FunctionalInterface
    interface RowBody { void row(long r); }

    // ------------------------------------------------------------------ reduce

    /**
     * The sum of a vector's lanes in lane order. Not {@code reduceLanes(ADD)}: its order is left to
     * the implementation and differs between the interpreter and the JIT-compiled intrinsic, which
     * made identical runs differ in the last bit (and broke bit-exact resume).
     */
    static float sumLanes(FloatVector v) {
        float s = 0;
        for (int i = 0; i < v.length(); i++) {
            s += v.lane(i);
        }
        return s;
    }

    public static void reduce(Parallel par, ReduceOp op, MemorySegment x, MemorySegment y, int outer, int axis, int inner) {
        if (inner == 1) {
            rows(par, outer, axis, o -> {
                long base = o * axis;
                if (op == ReduceOp.MAX) {
                    float m = Float.NEGATIVE_INFINITY;
                    for (int j = 0; j < axis; j++) m = Math.max(m, get(x, base + j));
                    set(y, o, m);
                } else {
                    FloatVector acc = FloatVector.zero(S);
                    int j = 0;
                    for (; j + V <= axis; j += V) acc = acc.add(FloatVector.fromMemorySegment(S, x, (base + j) * 4, LE));
                    double s = sumLanes(acc);
                    for (; j < axis; j++) s += get(x, base + j);
                    set(y, o, (float) (op == ReduceOp.MEAN ? s / axis : s));
                }
            });
            return;
        }
        // rows of y: vectorise along inner, walk the axis
        rows(par, outer, (long) axis * inner, o -> {
            long yb = o * inner;
            for (int i = 0; i < inner; i += 0) {
                int w = Math.min(V, inner - i);
                var mask = w == V ? null : S.indexInRange(0, w);
                FloatVector acc = op == ReduceOp.MAX ? FloatVector.broadcast(S, Float.NEGATIVE_INFINITY) : FloatVector.zero(S);
                for (int j = 0; j < axis; j++) {
                    long off = ((o * axis + j) * inner + i) * 4;
                    FloatVector v = mask == null ? FloatVector.fromMemorySegment(S, x, off, LE) : FloatVector.fromMemorySegment(S, x, off, LE, mask);
                    acc = op == ReduceOp.MAX ? acc.max(v) : acc.add(v);
                }
                if (op == ReduceOp.MEAN) acc = acc.mul(1f / axis);
                if (mask == null) acc.intoMemorySegment(y, (yb + i) * 4, LE); else acc.intoMemorySegment(y, (yb + i) * 4, LE, mask);
                i += w;
            }
        });
    }

    // ------------------------------------------------------------------ softmax

    /**
     * exp by {@link FloatMath#exp} (vector lanes and the scalar tail give the same bits, on every
     * JIT tier), the sum in double in index order, so a row's result never depends on the tier.
     */
    public static void softmax(Parallel par, MemorySegment x, MemorySegment y, int rowsN, int cols) {
        rows(par, rowsN, cols, r -> softmaxRow(x, y, r * cols, cols));
    }

    private static void softmaxRow(MemorySegment x, MemorySegment y, long b, int cols) {
        float m = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < cols; j++) m = Math.max(m, get(x, b + j));
        int j = 0;
        for (; j + V <= cols; j += V)
            FloatMath.exp(FloatVector.fromMemorySegment(S, x, (b + j) * 4, LE).sub(m)).intoMemorySegment(y, (b + j) * 4, LE);
        for (; j < cols; j++) set(y, b + j, FloatMath.exp(get(x, b + j) - m));
        double s = 0;
        for (j = 0; j < cols; j++) s += get(y, b + j);
        float inv = (float) (1 / s);
        j = 0;
        for (; j + V <= cols; j += V)
            FloatVector.fromMemorySegment(S, y, (b + j) * 4, LE).mul(inv).intoMemorySegment(y, (b + j) * 4, LE);
        for (; j < cols; j++) set(y, b + j, get(y, b + j) * inv);
    }

    public static void softmaxBackward(Parallel par, MemorySegment y, MemorySegment dy, MemorySegment dx, int rowsN, int cols) {
        rows(par, rowsN, cols, r -> {
            long b = r * cols;
            double dot = 0;
            for (int j = 0; j < cols; j++) dot += get(dy, b + j) * get(y, b + j);
            for (int j = 0; j < cols; j++) set(dx, b + j, (float) (get(y, b + j) * (get(dy, b + j) - dot)));
        });
    }

    // ------------------------------------------------------------------ layer norm

    public static void layerNorm(Parallel par, MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                                 MemorySegment mean, MemorySegment rstd, int rowsN, int cols, float eps) {
        rows(par, rowsN, cols, r -> {
            long b = r * cols;
            double s = 0, ss = 0;
            for (int j = 0; j < cols; j++) s += get(x, b + j);
            double mu = s / cols;
            for (int j = 0; j < cols; j++) { double d = get(x, b + j) - mu; ss += d * d; }
            float rs = (float) (1 / Math.sqrt(ss / cols + eps)), m = (float) mu;
            set(mean, r, m);
            set(rstd, r, rs);
            for (int j = 0; j < cols; j++) {
                float v = (get(x, b + j) - m) * rs;
                if (gamma != null) v = v * get(gamma, j) + (beta == null ? 0f : get(beta, j));
                else if (beta != null) v += get(beta, j);
                set(y, b + j, v);
            }
        });
    }

    public static void layerNormBackward(Parallel par, MemorySegment x, MemorySegment gamma, MemorySegment mean, MemorySegment rstd,
                                         MemorySegment dy, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta,
                                         int rowsN, int cols) {
        rows(par, rowsN, cols, r -> {
            long b = r * cols;
            float m = get(mean, r), rs = get(rstd, r);
            double s1 = 0, s2 = 0;
            for (int j = 0; j < cols; j++) {
                double g = get(dy, b + j) * (gamma == null ? 1f : get(gamma, j));
                s1 += g;
                s2 += g * (get(x, b + j) - m) * rs;
            }
            float a1 = (float) (s1 / cols), a2 = (float) (s2 / cols);
            for (int j = 0; j < cols; j++) {
                float g = get(dy, b + j) * (gamma == null ? 1f : get(gamma, j));
                float xh = (get(x, b + j) - m) * rs;
                set(dx, b + j, rs * (g - a1 - xh * a2));
            }
        });
        if (dgamma != null || dbeta != null) {
            // column sums: parallel over column chunks so no two tasks write the same value
            int tasks = Math.min(par.tasks((long) rowsN * cols, 1 << 14), Math.max(1, cols / 16));
            par.run(tasks, t -> {
                int c0 = (int) ((long) cols * t / tasks), c1 = (int) ((long) cols * (t + 1) / tasks);
                double[] sg = new double[c1 - c0], sb = new double[c1 - c0];
                for (int r = 0; r < rowsN; r++) {
                    long b = (long) r * cols;
                    float m = get(mean, r), rs = get(rstd, r);
                    for (int j = c0; j < c1; j++) {
                        float g = get(dy, b + j);
                        sg[j - c0] += g * (get(x, b + j) - m) * rs;
                        sb[j - c0] += g;
                    }
                }
                for (int j = c0; j < c1; j++) {
                    if (dgamma != null) set(dgamma, j, (float) sg[j - c0]);
                    if (dbeta != null) set(dbeta, j, (float) sb[j - c0]);
                }
            });
        }
    }

    // ------------------------------------------------------------------ group norm

    public static void groupNorm(Parallel par, MemorySegment x, MemorySegment gamma, MemorySegment beta, MemorySegment y,
                                 MemorySegment mean, MemorySegment rstd, int n, int c, int hw, int groups, float eps) {
        int cg = c / groups;
        long len = (long) cg * hw;
        rows(par, (long) n * groups, len, r -> {
            long b = r * len; // group r = (sample, group) is contiguous in NCHW
            double s = 0, ss = 0;
            for (long j = 0; j < len; j++) s += get(x, b + j);
            double mu = s / len;
            for (long j = 0; j < len; j++) { double d = get(x, b + j) - mu; ss += d * d; }
            float rs = (float) (1 / Math.sqrt(ss / len + eps)), m = (float) mu;
            set(mean, r, m);
            set(rstd, r, rs);
            int g = (int) (r % groups);
            for (int ch = 0; ch < cg; ch++) {
                int cc = g * cg + ch;
                float ga = gamma == null ? 1f : get(gamma, cc), be = beta == null ? 0f : get(beta, cc);
                long o = b + (long) ch * hw;
                for (int p = 0; p < hw; p++) set(y, o + p, (get(x, o + p) - m) * rs * ga + be);
            }
        });
    }

    public static void groupNormBackward(Parallel par, MemorySegment x, MemorySegment gamma, MemorySegment mean, MemorySegment rstd,
                                         MemorySegment dy, MemorySegment dx, MemorySegment dgamma, MemorySegment dbeta,
                                         int n, int c, int hw, int groups) {
        int cg = c / groups;
        long len = (long) cg * hw;
        rows(par, (long) n * groups, len, r -> {
            long b = r * len;
            float m = get(mean, r), rs = get(rstd, r);
            int g = (int) (r % groups);
            double s1 = 0, s2 = 0;
            for (int ch = 0; ch < cg; ch++) {
                float ga = gamma == null ? 1f : get(gamma, g * cg + ch);
                long o = b + (long) ch * hw;
                for (int p = 0; p < hw; p++) {
                    double gg = get(dy, o + p) * ga;
                    s1 += gg;
                    s2 += gg * (get(x, o + p) - m) * rs;
                }
            }
            float a1 = (float) (s1 / len), a2 = (float) (s2 / len);
            for (int ch = 0; ch < cg; ch++) {
                float ga = gamma == null ? 1f : get(gamma, g * cg + ch);
                long o = b + (long) ch * hw;
                for (int p = 0; p < hw; p++) {
                    float xh = (get(x, o + p) - m) * rs;
                    set(dx, o + p, rs * (get(dy, o + p) * ga - a1 - xh * a2));
                }
            }
        });
        if (dgamma != null || dbeta != null) {
            rows(par, c, (long) n * hw, cc -> {
                int g = (int) (cc / cg);
                double sg = 0, sb = 0;
                for (int s = 0; s < n; s++) {
                    long o = ((long) s * c + cc) * hw;
                    float m = get(mean, (long) s * groups + g), rs = get(rstd, (long) s * groups + g);
                    for (int p = 0; p < hw; p++) {
                        float d = get(dy, o + p);
                        sg += d * (get(x, o + p) - m) * rs;
                        sb += d;
                    }
                }
                if (dgamma != null) set(dgamma, cc, (float) sg);
                if (dbeta != null) set(dbeta, cc, (float) sb);
            });
        }
    }

    // ------------------------------------------------------------------ conv2d (im2col + GEMM)

    /** cols [cin kh kw, outH outW] of sample s. */
    static void im2col(Parallel par, MemorySegment x, long xo, Conv2dShape g, MemorySegment cols) {
        im2col(par, x, xo, g, 0, g.outH() * g.outW(), cols);
    }

    /**
     * cols [cin kh kw, np]: the im2col columns of output pixels [p0, p0 + np) (row-major) of sample s.
     * Per (row, output line) the pixels whose input column lies inside the image are one contiguous
     * run, copied in one go at stride 1 (a strided loop otherwise); the padding on either side is
     * filled with zeros. (A bounds check per element made im2col slower than the GEMM after it.)
     */
    static void im2col(Parallel par, MemorySegment x, long xo, Conv2dShape g, int p0, int np, MemorySegment cols) {
        int ow = g.outW(), kk = g.kh() * g.kw(), st = g.stride(), pad = g.padding(), h = g.h(), w = g.w();
        int firstLine = p0 / ow, lastLine = (p0 + np - 1) / ow;
        rows(par, (long) g.cin() * kk, np, row -> {
            int ci = (int) (row / kk), ky = (int) (row % kk) / g.kw(), kx = (int) (row % kk) % g.kw();
            // ix = ox st - pad + kx lies in [0, w) exactly for ox in [in0, in1)
            int in0 = Math.min(ow, Math.max(0, Math.ceilDiv(pad - kx, st)));
            int in1 = Math.max(in0, Math.min(ow, Math.ceilDiv(w + pad - kx, st)));
            for (int oy = firstLine; oy <= lastLine; oy++) {
                int lo = oy == firstLine ? p0 - oy * ow : 0, hi = oy == lastLine ? p0 + np - oy * ow : ow;
                long line = (row * np + (long) oy * ow - p0) * 4; // byte offset of (oy, ox = 0) in cols
                int iy = oy * st - pad + ky;
                int a = Math.max(lo, in0), b = Math.min(hi, in1);
                if (iy < 0 || iy >= h || a >= b) {
                    cols.asSlice(line + lo * 4L, (hi - lo) * 4L).fill((byte) 0);
                    continue;
                }
                if (a > lo) cols.asSlice(line + lo * 4L, (a - lo) * 4L).fill((byte) 0);
                if (hi > b) cols.asSlice(line + b * 4L, (hi - b) * 4L).fill((byte) 0);
                long src = xo + ((long) ci * h + iy) * w + ((long) a * st - pad + kx);
                if (st == 1) {
                    MemorySegment.copy(x, src * 4, cols, line + a * 4L, (b - a) * 4L);
                } else {
                    for (int ox = a; ox < b; ox++) set(cols, line / 4 + ox, get(x, src + (long) (ox - a) * st));
                }
            }
        });
    }

    /** dx[sample] = col2im(cols): the adjoint of im2col (parallel over input channels: no write conflicts). */
    static void col2im(Parallel par, MemorySegment cols, Conv2dShape g, MemorySegment dx, long xo) {
        int oh = g.outH(), ow = g.outW(), kk = g.kh() * g.kw();
        rows(par, g.cin(), (long) kk * oh * ow, ci -> {
            long plane = xo + ci * g.h() * (long) g.w();
            for (long p = 0; p < (long) g.h() * g.w(); p++) set(dx, plane + p, 0f);
            for (int k = 0; k < kk; k++) {
                int ky = k / g.kw(), kx = k % g.kw();
                long base = (ci * kk + k) * (long) oh * ow;
                for (int oy = 0; oy < oh; oy++) {
                    int iy = oy * g.stride() - g.padding() + ky;
                    if (iy < 0 || iy >= g.h()) continue;
                    for (int ox = 0; ox < ow; ox++) {
                        int ix = ox * g.stride() - g.padding() + kx;
                        if (ix < 0 || ix >= g.w()) continue;
                        long d = plane + (long) iy * g.w() + ix;
                        set(dx, d, get(dx, d) + get(cols, base + (long) oy * ow + ox));
                    }
                }
            }
        });
    }

    /** Floats of one block of im2col columns in the forward pass (4 MB: stays in the last-level cache). */
    static final long CONV_BLOCK_FLOATS = 1L << 20;

    /**
     * Forward conv as GEMMs over blocks of output pixels: im2col of a block into a small buffer, the
     * GEMM into a small output buffer, then copied into y with the bias added. One im2col of a whole
     * 256x256 image at 64 channels 3x3 was 151 MB, allocated, cleared and written for each call.
     */
    public static void conv2d(Parallel par, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y, Conv2dShape g) {
        int kdim = g.cin() * g.kh() * g.kw(), hw = g.outH() * g.outW();
        conv2d(par, x, w, bias, y, g, (int) Math.min(hw, Math.max(256, CONV_BLOCK_FLOATS / kdim)));
    }

    /** {@link #conv2d} in blocks of {@code block} output pixels (tests use small ones). */
    static void conv2d(Parallel par, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y, Conv2dShape g, int block) {
        int kdim = g.cin() * g.kh() * g.kw(), hw = g.outH() * g.outW(), cout = g.cout();
        CpuBuffer cols = CpuBuffer.allocate((long) kdim * block);
        CpuBuffer out = block == hw ? null : CpuBuffer.allocate((long) cout * block);
        try {
            for (int s = 0; s < g.n(); s++) {
                long xo = (long) s * g.cin() * g.h() * g.w(), yo = (long) s * cout * hw;
                for (int p0 = 0; p0 < hw; p0 += block) {
                    int np = Math.min(block, hw - p0), pf = p0;
                    im2col(par, x, xo, g, p0, np, cols.seg);
                    MemorySegment o = out == null ? y.asSlice(yo * 4, (long) cout * hw * 4) : out.seg;
                    Gemm.gemm(par, false, false, 1, cout, np, kdim, 1f, w, 0, cols.seg, 0, 0f, o, null);
                    if (out != null || bias != null) {
                        rows(par, cout, np, co -> {
                            float bv = bias == null ? 0f : get(bias, co);
                            long src = co * np, dst = yo + co * hw + pf;
                            int j = 0;
                            FloatVector vb = FloatVector.broadcast(S, bv);
                            for (; j <= np - V; j += V)
                                FloatVector.fromMemorySegment(S, o, (src + j) * 4, LE).add(vb).intoMemorySegment(y, (dst + j) * 4, LE);
                            for (; j < np; j++) set(y, dst + j, get(o, src + j) + bv);
                        });
                    }
                }
            }
        } finally {
            cols.close();
            if (out != null) out.close();
        }
    }

    public static void conv2dBackwardInput(Parallel par, MemorySegment dy, MemorySegment w, MemorySegment dx, Conv2dShape g) {
        int kdim = g.cin() * g.kh() * g.kw(), hw = g.outH() * g.outW();
        CpuBuffer cols = CpuBuffer.allocate((long) kdim * hw);
        try {
            for (int s = 0; s < g.n(); s++) {
                MemorySegment dys = dy.asSlice((long) s * g.cout() * hw * 4, (long) g.cout() * hw * 4);
                Gemm.gemm(par, true, false, 1, kdim, hw, g.cout(), 1f, w, 0, dys, 0, 0f, cols.seg, null);
                col2im(par, cols.seg, g, dx, (long) s * g.cin() * g.h() * g.w());
            }
        } finally {
            cols.close();
        }
    }

    public static void conv2dBackwardWeight(Parallel par, MemorySegment x, MemorySegment dy, MemorySegment dw, MemorySegment dbias, Conv2dShape g) {
        int kdim = g.cin() * g.kh() * g.kw(), hw = g.outH() * g.outW();
        CpuBuffer cols = CpuBuffer.allocate((long) kdim * hw);
        try {
            for (int s = 0; s < g.n(); s++) {
                im2col(par, x, (long) s * g.cin() * g.h() * g.w(), g, cols.seg);
                MemorySegment dys = dy.asSlice((long) s * g.cout() * hw * 4, (long) g.cout() * hw * 4);
                Gemm.gemm(par, false, true, 1, g.cout(), kdim, hw, 1f, dys, 0, cols.seg, 0, s == 0 ? 0f : 1f, dw, null);
            }
        } finally {
            cols.close();
        }
        if (dbias != null) {
            rows(par, g.cout(), (long) g.n() * hw, co -> {
                double sum = 0;
                for (int s = 0; s < g.n(); s++) {
                    long o = ((long) s * g.cout() + co) * hw;
                    for (int p = 0; p < hw; p++) sum += get(dy, o + p);
                }
                set(dbias, co, (float) sum);
            });
        }
    }

    // ------------------------------------------------------------------ depthwise causal conv1d, [B, L, C]

    public static void dwConv1d(Parallel par, MemorySegment x, MemorySegment w, MemorySegment bias, MemorySegment y, int b, int l, int c, int k) {
        float[] wt = tapsMajor(w, c, k), start = new float[c];
        if (bias != null) MemorySegment.copy(bias, F, 0, start, 0, c);
        // y[t] = bias + sum_j w[j] x[t - (k-1) + j]
        rows(par, (long) b * l, c * (long) k, r -> dwRow(x, wt, start, y, r, l, c, k, -(k - 1), 1));
    }

    public static void dwConv1dBackward(Parallel par, MemorySegment x, MemorySegment w, MemorySegment dy, MemorySegment dx,
                                        MemorySegment dw, MemorySegment dbias, int b, int l, int c, int k) {
        float[] wt = tapsMajor(w, c, k), zero = new float[c];
        // dx[t] = sum_j w[j] dy[t + (k-1) - j]
        rows(par, (long) b * l, c * (long) k, r -> dwRow(dy, wt, zero, dx, r, l, c, k, k - 1, -1));
        // dw, dbias: per channel over all (b, t), in double, (b, t) in order: parallel over chunks of whole vectors of channels
        int full = c / V * V, chunks = Math.max(1, Math.min(par.tasks((long) b * l * c * k, 1 << 14), full / V));
        par.run(chunks, task -> {
            int c0 = full / V * task / chunks * V, c1 = task == chunks - 1 ? c : full / V * (task + 1) / chunks * V;
            int n = c1 - c0, vEnd = c0 + Math.min(n, full - c0) / V * V;
            double[] sw = new double[k * n], sb = new double[n]; // sw[j n + (ch - c0)]
            for (int bi = 0; bi < b; bi++)
                for (int t = 0; t < l; t++)
                    dwGradRow(x, dy, sw, sb, (long) bi * l, t, c, k, c0, vEnd, c1);
            for (int ch = c0; ch < c1; ch++) {
                for (int j = 0; j < k; j++) set(dw, (long) ch * k + j, (float) sw[j * n + ch - c0]);
                if (dbias != null) set(dbias, ch, (float) sb[ch - c0]);
            }
        });
    }

    /** w [C, K] as wt[j C + ch]: one tap's weights contiguous across channels. */
    private static float[] tapsMajor(MemorySegment w, int c, int k) {
        float[] wt = new float[c * k];
        for (int ch = 0; ch < c; ch++)
            for (int j = 0; j < k; j++) wt[j * c + ch] = get(w, (long) ch * k + j);
        return wt;
    }

    /**
     * One row (position t) of the depthwise conv or its input gradient, vectorised across channels:
     * out[t, ch] = start[ch] + sum_j wt[j, ch] in[t + o0 + dir j, ch] over the taps that land inside
     * the sequence; mul then add per tap, in tap order, in the vector and the scalar tail alike.
     */
    private static void dwRow(MemorySegment in, float[] wt, float[] start, MemorySegment out, long r, int l, int c, int k,
                              int o0, int dir) {
        int t = (int) (r % l);
        long bb = r - t;
        int ch = 0;
        for (; ch + V <= c; ch += V) {
            FloatVector acc = FloatVector.fromArray(S, start, ch);
            for (int j = 0; j < k; j++) {
                int src = t + o0 + dir * j;
                if (src >= 0 && src < l)
                    acc = acc.add(FloatVector.fromArray(S, wt, j * c + ch).mul(FloatVector.fromMemorySegment(S, in, ((bb + src) * c + ch) * 4, LE)));
            }
            acc.intoMemorySegment(out, (r * c + ch) * 4, LE);
        }
        for (; ch < c; ch++) {
            float acc = start[ch];
            for (int j = 0; j < k; j++) {
                int src = t + o0 + dir * j;
                if (src >= 0 && src < l) acc += wt[j * c + ch] * get(in, (bb + src) * c + ch);
            }
            set(out, r * c + ch, acc);
        }
    }

    /** Doubles of the float species' width: a float vector widens into V / D.length() (two) of them. */
    private static final VectorSpecies<Double> D = DoubleVector.SPECIES_PREFERRED;

    /**
     * Position t of sequence bb adds g = dy[t] to sb and g x[t - (k-1) + j] (a float product) to sw[j], in
     * double: channels [c0, vEnd) a float vector at a time (widened in two halves), the rest one by one.
     */
    private static void dwGradRow(MemorySegment x, MemorySegment dy, double[] sw, double[] sb, long bb, int t, int c, int k,
                                  int c0, int vEnd, int c1) {
        int n = c1 - c0;
        long row = (bb + t) * c;
        for (int ch = c0; ch < vEnd; ch += V) {
            FloatVector g = FloatVector.fromMemorySegment(S, dy, (row + ch) * 4, LE);
            int o = ch - c0;
            addWidened(g, sb, o);
            for (int j = 0; j < k; j++) {
                int src = t - (k - 1) + j;
                if (src >= 0) addWidened(g.mul(FloatVector.fromMemorySegment(S, x, ((bb + src) * c + ch) * 4, LE)), sw, j * n + o);
            }
        }
        for (int ch = vEnd; ch < c1; ch++) {
            float g = get(dy, row + ch);
            sb[ch - c0] += g;
            for (int j = 0; j < k; j++) {
                int src = t - (k - 1) + j;
                if (src >= 0) sw[j * n + ch - c0] += g * get(x, (bb + src) * c + ch);
            }
        }
    }

    /** acc[o .. o+V) += v's lanes as doubles. */
    private static void addWidened(FloatVector v, double[] acc, int o) {
        for (int part = 0, w = D.length(); part < V / w; part++) {
            DoubleVector d = (DoubleVector) v.convertShape(VectorOperators.F2D, D, part);
            DoubleVector.fromArray(D, acc, o + w * part).add(d).intoArray(acc, o + w * part);
        }
    }

    // ------------------------------------------------------------------ gather / scatter

    public static void gather(Parallel par, MemorySegment src, MemorySegment dst, int outer, int axis, int inner, int[] index) {
        int n = index.length;
        rows(par, (long) outer * n, inner, r -> {
            long o = r / n;
            int i = (int) (r % n);
            MemorySegment.copy(src, ((o * axis + index[i]) * inner) * 4, dst, r * inner * 4, inner * 4L);
        });
    }

    public static void scatterAdd(Parallel par, MemorySegment src, MemorySegment dst, int outer, int axis, int inner, int[] index) {
        // parallel over outer only: repeated indices in one row of `outer` stay in one task
        rows(par, outer, (long) index.length * inner, o -> {
            for (int i = 0; i < index.length; i++) {
                long s = (o * index.length + i) * inner, d = (o * axis + index[i]) * inner;
                for (int j = 0; j < inner; j++) set(dst, d + j, get(dst, d + j) + get(src, s + j));
            }
        });
    }

    // ------------------------------------------------------------------ AdamW

    public static void adamw(Parallel par, MemorySegment p, MemorySegment g, MemorySegment m, MemorySegment v, long count,
                             float lr, float b1, float b2, float eps, float wd, long step) {
        // StrictMath: fdlibm, the same bits whatever compiled this
        float bc1 = (float) (1 - StrictMath.pow(b1, step)), bc2 = (float) (1 - StrictMath.pow(b2, step));
        float decay = 1 - lr * wd, stepSize = lr / bc1, ib2 = (float) (1 / Math.sqrt(bc2));
        int tasks = par.tasks(count, 1 << 15);
        par.run(tasks, t -> {
            long i0 = count * t / tasks, i1 = count * (t + 1) / tasks;
            for (long i = i0; i < i1; i++) {
                float gi = get(g, i);
                float mi = b1 * get(m, i) + (1 - b1) * gi;
                float vi = b2 * get(v, i) + (1 - b2) * gi * gi;
                set(m, i, mi);
                set(v, i, vi);
                float pi = get(p, i) * decay;
                set(p, i, pi - stepSize * mi / ((float) Math.sqrt(vi) * ib2 + eps));
            }
        });
    }

    // ------------------------------------------------------------------ random

    public static void random(Parallel par, MemorySegment dst, long count, long seed, long offset, boolean normal) {
        int tasks = par.tasks(count, 1 << 14);
        par.run(tasks, t -> {
            long i0 = count * t / tasks, i1 = count * (t + 1) / tasks;
            int[] w = new int[4];
            for (long i = i0; i < i1; i++) {
                Philox.block(seed, offset + i, w);
                set(dst, i, normal ? Philox.normal(w[0], w[1]) : Philox.uniform(w[0]));
            }
        });
    }
}
