package dev.sisma.engine.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.Philox;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The default implementations of {@link Backend}'s non-primitive methods, written once from the
 * primitives (gemm, unary, binary, compare, select, reduce) and the memory methods, so a new backend
 * runs everything once it has those. Each follows the method's Javadoc definition; none is fused,
 * so each costs a few passes over memory and some temporaries, freed before it returns. The
 * primitives take no offsets (only {@code copy} does), which is why slices are copied out first.
 * {@link dev.sisma.engine.spi.BackendOp#uses()} lists the primitives each one calls: keep it in step.
 */
public final class Composites {
    private Composites() {}

    private static final ValueLayout.OfFloat LE = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final long[] ONE = {1}, ZERO = {0};
    /** Host chunk for uploads, downloads and random numbers: bounds the heap a copy through the host needs. */
    private static final int CHUNK = 1 << 20;

    // ================================================================ helpers

    private static int[] flat(long count) {
        return new int[] {Math.toIntExact(count)};
    }

    private static DeviceBuffer scalar(Backend be, float v) {
        return be.upload(new float[] {v});
    }

    /** x[rows, cols] op v[rows] (v broadcast along each row) into out[rows, cols]. */
    private static void perRow(Backend be, BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer out, int rows, int cols) {
        be.binary(op, x, new long[] {cols, 1}, v, new long[] {1, 0}, out, new int[] {rows, cols});
    }

    /** x[rows, cols] op v[cols] (v broadcast over the rows) into out[rows, cols]. */
    private static void perCol(Backend be, BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer out, int rows, int cols) {
        be.binary(op, x, new long[] {cols, 1}, v, new long[] {0, 1}, out, new int[] {rows, cols});
    }

    /** out = a op b, both contiguous of {@code count} elements. */
    private static void flat(Backend be, BinaryOp op, DeviceBuffer a, DeviceBuffer b, DeviceBuffer out, long count) {
        be.binary(op, a, ONE, b, ONE, out, flat(count));
    }

    /** A contiguous copy of {@code src[offset + i . strides]} over {@code shape}. */
    private static DeviceBuffer slice(Backend be, DeviceBuffer src, long offset, long[] strides, int[] shape) {
        long n = 1;
        for (int s : shape) n *= s;
        DeviceBuffer d = be.allocate(n);
        be.copy(src, offset, strides, d, 0, contiguous(shape), shape);
        return d;
    }

    private static long[] contiguous(int[] shape) {
        long[] st = new long[shape.length];
        long s = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            st[i] = s;
            s *= shape[i];
        }
        return st;
    }

    // ================================================================ memory

    public static DeviceBuffer upload(Backend be, MemorySegment src) {
        if (src.byteSize() % 4 != 0) throw new IllegalArgumentException("segment of " + src.byteSize() + " bytes is not whole float32 values");
        long n = src.byteSize() / 4;
        if (n <= CHUNK) {
            float[] a = new float[(int) n];
            MemorySegment.copy(src, LE, 0, a, 0, a.length);
            return be.upload(a);
        }
        DeviceBuffer dst = be.allocate(n);
        float[] a = new float[CHUNK];
        for (long at = 0; at < n; at += CHUNK) {
            int len = (int) Math.min(CHUNK, n - at);
            float[] part = len == CHUNK ? a : new float[len];
            MemorySegment.copy(src, LE, at * 4, part, 0, len);
            try (DeviceBuffer t = be.upload(part)) {
                be.copy(t, 0, ONE, dst, at, ONE, flat(len));
            }
        }
        return dst;
    }

    /** 16-bit floats widened on the host into a float32 buffer (exact), in chunks. */
    public static DeviceBuffer uploadHalf(Backend be, MemorySegment src, DType format) {
        long n = halfCount(src, format);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment f = arena.allocate(n * 4, 4);
            for (long i = 0; i < n; i++) f.set(LE, 4 * i, format.fromHalf(src.get(I16, 2 * i)));
            return be.upload(f);
        }
    }

    /** The value count of a segment of 16-bit floats; fails for F32 and odd sizes. */
    public static long halfCount(MemorySegment src, DType format) {
        if (format != DType.BF16 && format != DType.F16) throw new IllegalArgumentException("uploadHalf: format must be F16 or BF16, got " + format);
        if (src.byteSize() % 2 != 0) throw new IllegalArgumentException("segment of " + src.byteSize() + " bytes is not whole 16-bit values");
        return src.byteSize() / 2;
    }

    public static void download(Backend be, DeviceBuffer src, MemorySegment dst) {
        long n = src.size();
        float[] a = new float[(int) Math.min(CHUNK, Math.max(n, 1))];
        for (long at = 0; at < n; at += CHUNK) {
            int len = (int) Math.min(CHUNK, n - at);
            be.download(src, at, a, 0, len);
            MemorySegment.copy(a, 0, dst, LE, at * 4, len);
        }
    }

    /** A one-element buffer broadcast by the strided copy (stride 0). */
    public static void fill(Backend be, DeviceBuffer dst, long offset, long count, float value) {
        try (DeviceBuffer v = scalar(be, value)) {
            for (long at = 0; at < count; at += Integer.MAX_VALUE) {
                be.copy(v, 0, ZERO, dst, offset + at, ONE, flat(Math.min(Integer.MAX_VALUE, count - at)));
            }
        }
    }

    // ================================================================ elementwise

    public static void affine(Backend be, DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        try (DeviceBuffer a = scalar(be, alpha); DeviceBuffer b = scalar(be, beta)) {
            be.binary(BinaryOp.MUL, x, ONE, a, ZERO, y, flat(count));
            be.binary(BinaryOp.ADD, y, ONE, b, ZERO, y, flat(count));
        }
    }

    /** dx = dy * f'(x), with f' from {@link UnaryOp}'s definitions. */
    public static void unaryBackward(Backend be, UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        int[] sh = flat(count);
        switch (op) {
            case NEG -> be.affine(dy, dx, count, -1f, 0f);
            case LOG -> flat(be, BinaryOp.DIV, dy, x, dx, count);
            case RELU, ABS -> {
                // select, not a product with a 0/1 mask: an infinite dy where the mask is 0 stays 0
                try (DeviceBuffer zero = scalar(be, 0f); DeviceBuffer pos = be.allocate(count)) {
                    be.compare(CompareOp.GT, x, ONE, zero, ZERO, pos, sh);
                    if (op == UnaryOp.RELU) {
                        be.select(pos, ONE, dy, ONE, zero, ZERO, dx, sh);
                    } else { // sign(x) dy: dy where x > 0, -dy where x < 0, 0 at 0
                        try (DeviceBuffer neg = be.allocate(count); DeviceBuffer ndy = be.allocate(count)) {
                            be.compare(CompareOp.LT, x, ONE, zero, ZERO, neg, sh);
                            be.affine(dy, ndy, count, -1f, 0f);
                            be.select(neg, ONE, ndy, ONE, zero, ZERO, ndy, sh);
                            be.select(pos, ONE, dy, ONE, ndy, ONE, dx, sh);
                        }
                    }
                }
            }
            default -> {
                try (DeviceBuffer t = be.allocate(count)) {
                    derivative(be, op, x, t, count);
                    flat(be, BinaryOp.MUL, dy, t, dx, count);
                }
            }
        }
    }

    /** t = f'(x) for the ops whose gradient is a plain product with dy. */
    private static void derivative(Backend be, UnaryOp op, DeviceBuffer x, DeviceBuffer t, long count) {
        switch (op) {
            case EXP -> be.unary(UnaryOp.EXP, x, t, count);
            case SQRT -> { // 1 / (2 sqrt x)
                be.unary(UnaryOp.SQRT, x, t, count);
                be.affine(t, t, count, 2f, 0f);
                be.unary(UnaryOp.RECIPROCAL, t, t, count);
            }
            case RSQRT -> { // -1/2 x^-3/2 = -1/2 rsqrt(x) / x
                be.unary(UnaryOp.RSQRT, x, t, count);
                flat(be, BinaryOp.DIV, t, x, t, count);
                be.affine(t, t, count, -0.5f, 0f);
            }
            case SIN -> be.unary(UnaryOp.COS, x, t, count);
            case COS -> {
                be.unary(UnaryOp.SIN, x, t, count);
                be.affine(t, t, count, -1f, 0f);
            }
            case TANH -> { // 1 - tanh^2
                be.unary(UnaryOp.TANH, x, t, count);
                be.unary(UnaryOp.SQUARE, t, t, count);
                be.affine(t, t, count, -1f, 1f);
            }
            case SIGMOID, SOFTPLUS, SILU -> {
                be.unary(UnaryOp.SIGMOID, x, t, count);
                if (op == UnaryOp.SOFTPLUS) return; // softplus' = sigmoid
                try (DeviceBuffer u = be.allocate(count)) {
                    be.affine(t, u, count, -1f, 1f); // 1 - s
                    if (op == UnaryOp.SILU) { // s (1 + x (1 - s))
                        flat(be, BinaryOp.MUL, u, x, u, count);
                        be.affine(u, u, count, 1f, 1f);
                    }
                    flat(be, BinaryOp.MUL, t, u, t, count);
                }
            }
            case GELU_TANH -> {
                // 0.5 (1 + th) + 0.5 x (1 - th^2) k (1 + 3 c x^2), th = tanh(k (x + c x^3))
                float k = (float) Math.sqrt(2 / Math.PI), c = 0.044715f;
                try (DeviceBuffer x2 = be.allocate(count); DeviceBuffer th = be.allocate(count)) {
                    be.unary(UnaryOp.SQUARE, x, x2, count);
                    be.affine(x2, th, count, c, 1f);
                    flat(be, BinaryOp.MUL, th, x, th, count);
                    be.affine(th, th, count, k, 0f);
                    be.unary(UnaryOp.TANH, th, th, count);
                    be.unary(UnaryOp.SQUARE, th, t, count);
                    be.affine(t, t, count, -0.5f, 0.5f);            // 0.5 (1 - th^2)
                    flat(be, BinaryOp.MUL, t, x, t, count);
                    be.affine(x2, x2, count, 3 * c * k, k);          // k (1 + 3 c x^2)
                    flat(be, BinaryOp.MUL, t, x2, t, count);
                    be.affine(th, th, count, 0.5f, 0.5f);
                    flat(be, BinaryOp.ADD, t, th, t, count);
                }
            }
            case SQUARE -> be.affine(x, t, count, 2f, 0f);
            case RECIPROCAL -> { // -1/x^2
                be.unary(UnaryOp.SQUARE, x, t, count);
                be.unary(UnaryOp.RECIPROCAL, t, t, count);
                be.affine(t, t, count, -1f, 0f);
            }
            default -> throw new IllegalStateException("no derivative composite for " + op);
        }
    }

    // ================================================================ normalisation

    public static void softmax(Backend be, DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        try (DeviceBuffer r = be.allocate(rows)) {
            be.reduce(ReduceOp.MAX, x, r, rows, cols, 1);
            perRow(be, BinaryOp.SUB, x, r, y, rows, cols);
            be.unary(UnaryOp.EXP, y, y, (long) rows * cols);
            be.reduce(ReduceOp.SUM, y, r, rows, cols, 1);
            perRow(be, BinaryOp.DIV, y, r, y, rows, cols);
        }
    }

    public static void softmaxBackward(Backend be, DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        long n = (long) rows * cols;
        try (DeviceBuffer t = be.allocate(n); DeviceBuffer r = be.allocate(rows)) {
            flat(be, BinaryOp.MUL, dy, y, t, n);
            be.reduce(ReduceOp.SUM, t, r, rows, cols, 1);
            perRow(be, BinaryOp.SUB, dy, r, t, rows, cols);
            flat(be, BinaryOp.MUL, t, y, dx, n);
        }
    }

    /** y = (x - mean) rstd per row, saving mean and rstd (biased variance, two passes). */
    private static void normaliseRows(Backend be, DeviceBuffer x, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
                                      int rows, int cols, float eps) {
        long n = (long) rows * cols;
        be.reduce(ReduceOp.MEAN, x, mean, rows, cols, 1);
        perRow(be, BinaryOp.SUB, x, mean, y, rows, cols);
        try (DeviceBuffer sq = be.allocate(n)) {
            be.unary(UnaryOp.SQUARE, y, sq, n);
            be.reduce(ReduceOp.MEAN, sq, rstd, rows, cols, 1);
        }
        be.affine(rstd, rstd, rows, 1f, eps);
        be.unary(UnaryOp.RSQRT, rstd, rstd, rows);
        perRow(be, BinaryOp.MUL, y, rstd, y, rows, cols);
    }

    /** (x - mean) rstd per row into a new buffer. */
    private static DeviceBuffer normalised(Backend be, DeviceBuffer x, DeviceBuffer mean, DeviceBuffer rstd, int rows, int cols) {
        DeviceBuffer xh = be.allocate((long) rows * cols);
        perRow(be, BinaryOp.SUB, x, mean, xh, rows, cols);
        perRow(be, BinaryOp.MUL, xh, rstd, xh, rows, cols);
        return xh;
    }

    /** dx = rstd (g - mean(g) - xhat mean(g xhat)) per row, g the gradient at xhat. */
    private static void normaliseRowsBackward(Backend be, DeviceBuffer xh, DeviceBuffer g, DeviceBuffer rstd, DeviceBuffer dx,
                                              int rows, int cols) {
        long n = (long) rows * cols;
        try (DeviceBuffer t = be.allocate(n); DeviceBuffer mg = be.allocate(rows); DeviceBuffer mgx = be.allocate(rows)) {
            be.reduce(ReduceOp.MEAN, g, mg, rows, cols, 1);
            flat(be, BinaryOp.MUL, g, xh, t, n);
            be.reduce(ReduceOp.MEAN, t, mgx, rows, cols, 1);
            perRow(be, BinaryOp.MUL, xh, mgx, t, rows, cols);
            flat(be, BinaryOp.SUB, g, t, t, n);
            perRow(be, BinaryOp.SUB, t, mg, t, rows, cols);
            perRow(be, BinaryOp.MUL, t, rstd, dx, rows, cols);
        }
    }

    // ================================================================ fused AdaLN and Mamba gates

    /** Strides of [batch, tokens, cols] contiguous, and of a [batch, cols] vector broadcast over the tokens. */
    private static long[] full(int tokens, int cols) {
        return new long[] {(long) tokens * cols, cols, 1};
    }

    private static long[] perSample(int cols) {
        return new long[] {cols, 0, 1};
    }

    public static void modulate(Backend be, DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y,
                                int batch, int tokens, int cols) {
        int[] shape = {batch, tokens, cols};
        try (DeviceBuffer s1 = be.allocate((long) batch * cols)) {
            be.affine(scale, s1, (long) batch * cols, 1f, 1f);                       // 1 + scale
            be.binary(BinaryOp.MUL, x, full(tokens, cols), s1, perSample(cols), y, shape);
            be.binary(BinaryOp.ADD, y, full(tokens, cols), shift, perSample(cols), y, shape);
        }
    }

    public static void layerNormModulate(Backend be, DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y,
                                         int batch, int tokens, int cols, float eps) {
        int rows = batch * tokens;
        try (DeviceBuffer mean = be.allocate(rows); DeviceBuffer rstd = be.allocate(rows)) {
            be.layerNorm(x, null, null, y, mean, rstd, rows, cols, eps);
        }
        be.modulate(y, shift, scale, y, batch, tokens, cols);
    }

    public static void gatedResidual(Backend be, DeviceBuffer x, DeviceBuffer gate, DeviceBuffer y, DeviceBuffer out,
                                     int batch, int tokens, int cols) {
        int[] shape = {batch, tokens, cols};
        try (DeviceBuffer t = be.allocate((long) batch * tokens * cols)) {
            be.binary(BinaryOp.MUL, gate, perSample(cols), y, full(tokens, cols), t, shape);
            be.binary(BinaryOp.ADD, x, full(tokens, cols), t, full(tokens, cols), out, shape);
        }
    }

    public static void siluGate(Backend be, DeviceBuffer x, DeviceBuffer z, long zOffset, long zStride, DeviceBuffer out,
                                int rows, int cols) {
        long n = (long) rows * cols;
        try (DeviceBuffer g = be.allocate(n)) {
            be.copy(z, zOffset, new long[] {zStride, 1}, g, 0, new long[] {cols, 1}, new int[] {rows, cols});
            be.unary(UnaryOp.SILU, g, g, n);
            flat(be, BinaryOp.MUL, x, g, out, n);
        }
    }

    public static void layerNorm(Backend be, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y,
                                 DeviceBuffer mean, DeviceBuffer rstd, int rows, int cols, float eps) {
        normaliseRows(be, x, y, mean, rstd, rows, cols, eps);
        if (gamma != null) perCol(be, BinaryOp.MUL, y, gamma, y, rows, cols);
        if (beta != null) perCol(be, BinaryOp.ADD, y, beta, y, rows, cols);
    }

    public static void layerNormBackward(Backend be, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd,
                                         DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int rows, int cols) {
        long n = (long) rows * cols;
        try (DeviceBuffer xh = normalised(be, x, mean, rstd, rows, cols)) {
            if (gamma != null && dgamma != null) {
                try (DeviceBuffer t = be.allocate(n)) {
                    flat(be, BinaryOp.MUL, dy, xh, t, n);
                    be.reduce(ReduceOp.SUM, t, dgamma, 1, rows, cols);
                }
            }
            if (gamma != null && dbeta != null) be.reduce(ReduceOp.SUM, dy, dbeta, 1, rows, cols);
            if (gamma == null) {
                normaliseRowsBackward(be, xh, dy, rstd, dx, rows, cols);
            } else {
                try (DeviceBuffer g = be.allocate(n)) {
                    perCol(be, BinaryOp.MUL, dy, gamma, g, rows, cols);
                    normaliseRowsBackward(be, xh, g, rstd, dx, rows, cols);
                }
            }
        }
    }

    /** x [n, c, hw] op v[c] (per channel) into out. */
    private static void perChannel(Backend be, BinaryOp op, DeviceBuffer x, DeviceBuffer v, DeviceBuffer out, int n, int c, int hw) {
        be.binary(op, x, new long[] {(long) c * hw, hw, 1}, v, new long[] {0, 1, 0}, out, new int[] {n, c, hw});
    }

    /** GroupNorm is LayerNorm over rows of [n * groups, c / groups * hw], then a per-channel affine. */
    public static void groupNorm(Backend be, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y,
                                 DeviceBuffer mean, DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) {
        normaliseRows(be, x, y, mean, rstd, n * groups, c / groups * hw, eps);
        if (gamma != null) perChannel(be, BinaryOp.MUL, y, gamma, y, n, c, hw);
        if (beta != null) perChannel(be, BinaryOp.ADD, y, beta, y, n, c, hw);
    }

    public static void groupNormBackward(Backend be, DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd,
                                         DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta,
                                         int n, int c, int hw, int groups) {
        int rows = n * groups, cols = c / groups * hw;
        long size = (long) n * c * hw;
        try (DeviceBuffer xh = normalised(be, x, mean, rstd, rows, cols)) {
            if (gamma != null && (dgamma != null || dbeta != null)) {
                try (DeviceBuffer t = be.allocate(size); DeviceBuffer perNc = be.allocate((long) n * c)) {
                    if (dgamma != null) { // sum over hw, then over the batch
                        flat(be, BinaryOp.MUL, dy, xh, t, size);
                        be.reduce(ReduceOp.SUM, t, perNc, n * c, hw, 1);
                        be.reduce(ReduceOp.SUM, perNc, dgamma, 1, n, c);
                    }
                    if (dbeta != null) {
                        be.reduce(ReduceOp.SUM, dy, perNc, n * c, hw, 1);
                        be.reduce(ReduceOp.SUM, perNc, dbeta, 1, n, c);
                    }
                }
            }
            if (gamma == null) {
                normaliseRowsBackward(be, xh, dy, rstd, dx, rows, cols);
            } else {
                try (DeviceBuffer g = be.allocate(size)) {
                    perChannel(be, BinaryOp.MUL, dy, gamma, g, n, c, hw);
                    normaliseRowsBackward(be, xh, g, rstd, dx, rows, cols);
                }
            }
        }
    }

    // ================================================================ convolutions

    /** x zero-padded to [n, cin, h + 2p, w + 2p] (x itself without padding). */
    private static DeviceBuffer padded(Backend be, DeviceBuffer x, Conv2dShape s) {
        if (s.padding() == 0) return x;
        int hp = s.h() + 2 * s.padding(), wp = s.w() + 2 * s.padding();
        DeviceBuffer xp = be.allocate((long) s.n() * s.cin() * hp * wp);
        be.copy(x, 0, new long[] {(long) s.h() * s.w(), s.w(), 1}, xp, (long) s.padding() * wp + s.padding(),
                new long[] {(long) hp * wp, wp, 1}, new int[] {s.n() * s.cin(), s.h(), s.w()});
        return xp;
    }

    /** The im2col view of the padded input: shape [n, cin, kh, kw, outH, outW], strides into it. */
    private static int[] windowShape(Conv2dShape s) {
        return new int[] {s.n(), s.cin(), s.kh(), s.kw(), s.outH(), s.outW()};
    }

    private static long[] windowStrides(Conv2dShape s) {
        long hp = s.h() + 2L * s.padding(), wp = s.w() + 2L * s.padding();
        return new long[] {s.cin() * hp * wp, hp * wp, wp, 1, s.stride() * wp, s.stride()};
    }

    /** im2col (one strided copy) and a batched GEMM with the shared weight: y[b] = W [cout, K] cols[b] [K, P]. */
    public static void conv2d(Backend be, DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        int k = s.cin() * s.kh() * s.kw(), p = s.outH() * s.outW();
        DeviceBuffer xp = padded(be, x, s);
        try (DeviceBuffer cols = slice(be, xp, 0, windowStrides(s), windowShape(s))) {
            be.gemm(false, false, s.n(), s.cout(), p, k, 1f, w, 0, cols, (long) k * p, 0f, y, null);
        } finally {
            if (xp != x) xp.close();
        }
        if (bias != null) perChannel(be, BinaryOp.ADD, y, bias, y, s.n(), s.cout(), p);
    }

    /** dcols[b] = W^T dy[b], then col2im: each kernel tap adds its columns into the padded dx (taps overlap, positions within one do not). */
    public static void conv2dBackwardInput(Backend be, DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        int k = s.cin() * s.kh() * s.kw(), p = s.outH() * s.outW();
        int hp = s.h() + 2 * s.padding(), wp = s.w() + 2 * s.padding();
        int[] tap = {s.n(), s.cin(), s.outH(), s.outW()};
        long[] tapInCols = {(long) k * p, (long) s.kh() * s.kw() * p, s.outW(), 1};
        long[] ws = windowStrides(s), tapInX = {ws[0], ws[1], ws[4], ws[5]};
        try (DeviceBuffer dcols = be.allocate((long) s.n() * k * p); DeviceBuffer dxp = be.allocate((long) s.n() * s.cin() * hp * wp)) {
            be.gemm(true, false, s.n(), k, p, s.cout(), 1f, w, 0, dy, (long) s.cout() * p, 0f, dcols, null);
            for (int ky = 0; ky < s.kh(); ky++) {
                for (int kx = 0; kx < s.kw(); kx++) {
                    long at = (long) ky * wp + kx;
                    try (DeviceBuffer acc = slice(be, dxp, at, tapInX, tap);
                         DeviceBuffer part = slice(be, dcols, ((long) ky * s.kw() + kx) * p, tapInCols, tap)) {
                        flat(be, BinaryOp.ADD, acc, part, acc, (long) s.n() * s.cin() * p);
                        be.copy(acc, 0, contiguous(tap), dxp, at, tapInX, tap);
                    }
                }
            }
            be.copy(dxp, (long) s.padding() * wp + s.padding(), new long[] {(long) hp * wp, wp, 1},
                    dx, 0, new long[] {(long) s.h() * s.w(), s.w(), 1}, new int[] {s.n() * s.cin(), s.h(), s.w()});
        }
    }

    /** dW [cout, K] = dy as [cout, n P] times the columns as [n P, K]: one GEMM over the whole batch. */
    public static void conv2dBackwardWeight(Backend be, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        int k = s.cin() * s.kh() * s.kw(), p = s.outH() * s.outW(), np = s.n() * p;
        DeviceBuffer xp = padded(be, x, s);
        try (DeviceBuffer colsT = be.allocate((long) np * k); DeviceBuffer dyT = be.allocate((long) s.cout() * np)) {
            be.copy(xp, 0, windowStrides(s), colsT, 0,
                    new long[] {(long) p * k, (long) s.kh() * s.kw(), s.kw(), 1, (long) s.outW() * k, k}, windowShape(s));
            be.copy(dy, 0, new long[] {(long) s.cout() * p, p, 1}, dyT, 0, new long[] {p, np, 1}, new int[] {s.n(), s.cout(), p});
            be.gemm(false, false, 1, s.cout(), k, np, 1f, dyT, 0, colsT, 0, 0f, dw, null);
            if (dbias != null) be.reduce(ReduceOp.SUM, dyT, dbias, s.cout(), np, 1);
        } finally {
            if (xp != x) xp.close();
        }
    }

    /** x [b, l, c] with k - 1 zero rows in front of each sequence: [b, l + k - 1, c]. */
    private static DeviceBuffer causalPadded(Backend be, DeviceBuffer x, int b, int l, int c, int k, boolean front) {
        int lp = l + k - 1;
        DeviceBuffer xp = be.allocate((long) b * lp * c);
        be.copy(x, 0, new long[] {(long) l * c, 1}, xp, front ? (long) (k - 1) * c : 0, new long[] {(long) lp * c, 1}, new int[] {b, l * c});
        return xp;
    }

    /** Column j of w [c, k] as its own buffer [c]. */
    private static DeviceBuffer tapWeights(Backend be, DeviceBuffer w, int c, int k, int j) {
        return slice(be, w, j, new long[] {k}, new int[] {c});
    }

    public static void depthwiseCausalConv1d(Backend be, DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y,
                                             int b, int l, int c, int k) {
        long n = (long) b * l * c;
        int lp = l + k - 1;
        int[] shape = {b, l, c};
        long[] win = {(long) lp * c, c, 1};
        if (bias != null) be.copy(bias, 0, new long[] {0, 0, 1}, y, 0, contiguous(shape), shape);
        else be.fill(y, 0, n, 0f);
        try (DeviceBuffer xp = causalPadded(be, x, b, l, c, k, true)) {
            for (int j = 0; j < k; j++) {
                try (DeviceBuffer t = slice(be, xp, (long) j * c, win, shape); DeviceBuffer wj = tapWeights(be, w, c, k, j)) {
                    perCol(be, BinaryOp.MUL, t, wj, t, b * l, c);
                    flat(be, BinaryOp.ADD, y, t, y, n);
                }
            }
        }
    }

    public static void depthwiseCausalConv1dBackward(Backend be, DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx,
                                                     DeviceBuffer dw, DeviceBuffer dbias, int b, int l, int c, int k) {
        long n = (long) b * l * c;
        int lp = l + k - 1;
        int[] shape = {b, l, c};
        long[] win = {(long) lp * c, c, 1};
        be.fill(dx, 0, n, 0f);
        // dx[s] = sum_j w[j] dy[s + k - 1 - j]; dw[j] = sum dy[t] x[t + j - (k - 1)]
        try (DeviceBuffer dyp = causalPadded(be, dy, b, l, c, k, false); DeviceBuffer xp = causalPadded(be, x, b, l, c, k, true);
             DeviceBuffer col = be.allocate(c)) {
            for (int j = 0; j < k; j++) {
                try (DeviceBuffer t = slice(be, dyp, (long) (k - 1 - j) * c, win, shape); DeviceBuffer wj = tapWeights(be, w, c, k, j)) {
                    perCol(be, BinaryOp.MUL, t, wj, t, b * l, c);
                    flat(be, BinaryOp.ADD, dx, t, dx, n);
                }
                try (DeviceBuffer t = slice(be, xp, (long) j * c, win, shape)) {
                    flat(be, BinaryOp.MUL, t, dy, t, n);
                    be.reduce(ReduceOp.SUM, t, col, 1, b * l, c);
                    be.copy(col, 0, ONE, dw, j, new long[] {k}, new int[] {c});
                }
            }
        }
        if (dbias != null) be.reduce(ReduceOp.SUM, dy, dbias, 1, b * l, c);
    }

    // ================================================================ indexing

    /** One strided copy per run of consecutive indices (a scan order is a few long runs). */
    public static void gather(Backend be, DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        int len = index.length;
        for (int i = 0; i < len; ) {
            int run = 1;
            while (i + run < len && index[i + run] == index[i] + run) run++;
            be.copy(src, (long) index[i] * inner, new long[] {(long) srcAxis * inner, 1},
                    dst, (long) i * inner, new long[] {(long) len * inner, 1}, new int[] {outer, run * inner});
            i += run;
        }
    }

    /** dst[o] += M^T src[o] with M [index.length, dstAxis] one-hot: repeated indices add up in one accumulating GEMM. */
    public static void scatterAdd(Backend be, DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        float[] m = new float[Math.multiplyExact(index.length, dstAxis)];
        for (int i = 0; i < index.length; i++) m[i * dstAxis + index[i]] = 1f;
        try (DeviceBuffer mb = be.upload(m)) {
            be.gemm(true, false, outer, dstAxis, inner, index.length, 1f, mb, 0, src, (long) index.length * inner, 1f, dst, null);
        }
    }

    // ================================================================ Mamba

    /** Strides of a [b, l, e] tensor broadcast to [b, l, e, n]. */
    private static long[] ble(int l, int e) {
        return new long[] {(long) l * e, e, 1, 0};
    }

    /** Strides of a [b, l, n] tensor broadcast to [b, l, e, n]. */
    private static long[] bln(int l, int n) {
        return new long[] {(long) l * n, n, 0, 1};
    }

    /**
     * The per-position decays dA = exp(delta a) and inputs X = delta u B, both [b, l, e, n], and
     * the states H [b, l, e, n] (into X's buffer): h_t = dA_t h_{t-1} + X_t, one position at a time.
     */
    private static void states(Backend be, DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm,
                               DeviceBuffer dA, DeviceBuffer hs, int b, int l, int e, int n) {
        int[] full = {b, l, e, n};
        be.binary(BinaryOp.MUL, delta, ble(l, e), a, new long[] {0, 0, n, 1}, dA, full);
        be.unary(UnaryOp.EXP, dA, dA, (long) b * l * e * n);
        try (DeviceBuffer du = be.allocate((long) b * l * e)) {
            flat(be, BinaryOp.MUL, delta, u, du, (long) b * l * e);
            be.binary(BinaryOp.MUL, du, ble(l, e), bm, bln(l, n), hs, full);
        }
        recur(be, dA, hs, b, l, e * n, false);
    }

    /**
     * In place over v [b, l, s]: v_t += decay_t' v_{t -/+ 1} walking forward (decay_t' = decay_t)
     * or backward (decay_t' = decay_{t+1}). Each step copies its slices out and back: the
     * primitives take no offsets.
     */
    private static void recur(Backend be, DeviceBuffer decay, DeviceBuffer v, int b, int l, int s, boolean backward) {
        long[] rows = {(long) l * s, 1};
        int[] shape = {b, s};
        long count = (long) b * s;
        int first = backward ? l - 1 : 0;
        try (DeviceBuffer h = slice(be, v, (long) first * s, rows, shape); DeviceBuffer d = be.allocate(count); DeviceBuffer x = be.allocate(count)) {
            for (int i = 1; i < l; i++) {
                int t = backward ? l - 1 - i : i, dt = backward ? t + 1 : t;
                be.copy(decay, (long) dt * s, rows, d, 0, contiguous(shape), shape);
                be.copy(v, (long) t * s, rows, x, 0, contiguous(shape), shape);
                flat(be, BinaryOp.MUL, h, d, h, count);
                flat(be, BinaryOp.ADD, h, x, h, count);
                be.copy(h, 0, contiguous(shape), v, (long) t * s, rows, shape);
            }
        }
    }

    public static void selectiveScan(Backend be, DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                                     DeviceBuffer d, DeviceBuffer y, int b, int l, int e, int n) {
        long full = (long) b * l * e * n;
        try (DeviceBuffer dA = be.allocate(full); DeviceBuffer hs = be.allocate(full)) {
            states(be, u, delta, a, bm, dA, hs, b, l, e, n);
            be.binary(BinaryOp.MUL, hs, new long[] {(long) l * e * n, (long) e * n, n, 1}, cm, bln(l, n), dA, new int[] {b, l, e, n});
            be.reduce(ReduceOp.SUM, dA, y, b * l * e, n, 1);
        }
        addSkip(be, u, d, y, b, l, e);
    }

    /** y += d u (d per channel), when d is given. */
    private static void addSkip(Backend be, DeviceBuffer u, DeviceBuffer d, DeviceBuffer y, int b, int l, int e) {
        if (d == null) return;
        long ble = (long) b * l * e;
        try (DeviceBuffer t = be.allocate(ble)) {
            perCol(be, BinaryOp.MUL, u, d, t, b * l, e);
            flat(be, BinaryOp.ADD, y, t, y, ble);
        }
    }

    /**
     * With G_t = dL/dh_t (G_t = C_t dy_t + dA_{t+1} G_{t+1}, walked backward) and H_{t-1} the
     * previous state: dC = sum_e dy H, dB = sum_e G delta u, du = delta sum_n G B + D dy,
     * ddelta = u sum_n G B + sum_n G H_{t-1} dA a, dA = sum_{b,t} G H_{t-1} dA delta, dD = sum dy u.
     */
    public static void selectiveScanBackward(Backend be, DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                                             DeviceBuffer d, DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da,
                                             DeviceBuffer dbm, DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        long full = (long) b * l * e * n, ble = (long) b * l * e;
        int[] shape = {b, l, e, n};
        long[] all = {(long) l * e * n, (long) e * n, n, 1};
        try (DeviceBuffer dA = be.allocate(full); DeviceBuffer hs = be.allocate(full); DeviceBuffer g = be.allocate(full);
             DeviceBuffer t = be.allocate(full); DeviceBuffer r1 = be.allocate(ble); DeviceBuffer r2 = be.allocate(ble)) {
            states(be, u, delta, a, bm, dA, hs, b, l, e, n);
            // dC
            be.binary(BinaryOp.MUL, hs, all, dy, ble(l, e), t, shape);
            be.reduce(ReduceOp.SUM, t, dcm, b * l, e, n);
            // G
            be.binary(BinaryOp.MUL, dy, ble(l, e), cm, bln(l, n), g, shape);
            recur(be, dA, g, b, l, e * n, true);
            // H_{t-1} into hs: shift every sequence by one position, zeros first
            try (DeviceBuffer prev = be.allocate(full)) {
                if (l > 1) be.copy(hs, 0, new long[] {(long) l * e * n, 1}, prev, (long) e * n, new long[] {(long) l * e * n, 1},
                        new int[] {b, (l - 1) * e * n});
                be.copy(prev, 0, ONE, hs, 0, ONE, flat(full));
            }
            // dB = sum_e G (delta u)
            flat(be, BinaryOp.MUL, delta, u, r1, ble);
            be.binary(BinaryOp.MUL, g, all, r1, ble(l, e), t, shape);
            be.reduce(ReduceOp.SUM, t, dbm, b * l, e, n);
            // r1 = sum_n G B; du = delta r1 + D dy
            be.binary(BinaryOp.MUL, g, all, bm, bln(l, n), t, shape);
            be.reduce(ReduceOp.SUM, t, r1, b * l * e, n, 1);
            flat(be, BinaryOp.MUL, r1, delta, du, ble);
            addSkip(be, dy, d, du, b, l, e);
            // t = G H_{t-1} dA; ddelta = u r1 + sum_n t a
            flat(be, BinaryOp.MUL, g, hs, t, full);
            flat(be, BinaryOp.MUL, t, dA, t, full);
            be.binary(BinaryOp.MUL, t, all, a, new long[] {0, 0, n, 1}, g, shape);
            be.reduce(ReduceOp.SUM, g, r2, b * l * e, n, 1);
            flat(be, BinaryOp.MUL, r1, u, ddelta, ble);
            flat(be, BinaryOp.ADD, ddelta, r2, ddelta, ble);
            // dA = sum_{b,l} t delta
            be.binary(BinaryOp.MUL, t, all, delta, ble(l, e), t, shape);
            be.reduce(ReduceOp.SUM, t, da, 1, b * l, e * n);
            if (dd != null) {
                flat(be, BinaryOp.MUL, dy, u, r1, ble);
                be.reduce(ReduceOp.SUM, r1, dd, 1, b * l, e);
            }
        }
    }

    // ================================================================ training

    public static void adamw(Backend be, DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
                             float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        double bc1 = 1 - Math.pow(beta1, step), bc2 = 1 - Math.pow(beta2, step);
        be.affine(param, param, count, 1f - lr * weightDecay, 0f);
        try (DeviceBuffer t = be.allocate(count)) {
            be.affine(m, m, count, beta1, 0f);
            be.affine(grad, t, count, 1f - beta1, 0f);
            flat(be, BinaryOp.ADD, m, t, m, count);
            be.unary(UnaryOp.SQUARE, grad, t, count);
            be.affine(t, t, count, 1f - beta2, 0f);
            be.affine(v, v, count, beta2, 0f);
            flat(be, BinaryOp.ADD, v, t, v, count);
            be.affine(v, t, count, (float) (1 / bc2), 0f);        // sqrt(v / bc2) + eps
            be.unary(UnaryOp.SQRT, t, t, count);
            be.affine(t, t, count, 1f, eps);
            flat(be, BinaryOp.DIV, m, t, t, count);
            be.affine(t, t, count, (float) (-lr / bc1), 0f);
            flat(be, BinaryOp.ADD, param, t, param, count);
        }
    }

    /** Philox on the host, uploaded in chunks: bit-exact by construction. */
    public static void random(Backend be, DeviceBuffer dst, long count, long seed, long offset, boolean normal) {
        int[] w = new int[4];
        float[] a = new float[(int) Math.min(CHUNK, Math.max(count, 1))];
        for (long at = 0; at < count; at += CHUNK) {
            int len = (int) Math.min(CHUNK, count - at);
            for (int i = 0; i < len; i++) {
                Philox.block(seed, offset + at + i, w);
                a[i] = normal ? Philox.normal(w[0], w[1]) : Philox.uniform(w[0]);
            }
            try (DeviceBuffer t = be.upload(len == a.length ? a : java.util.Arrays.copyOf(a, len))) {
                be.copy(t, 0, ONE, dst, at, ONE, flat(len));
            }
        }
    }
}
