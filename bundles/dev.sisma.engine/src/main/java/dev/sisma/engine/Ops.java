package dev.sisma.engine;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The tensor ops a DiT/Mamba model needs, PyTorch-like, each with its gradient. Composite ops
 * (mse, pooling, upsampling) are written here once from the {@link Backend} primitives, so every
 * backend gets them. Every op validates its arguments (one message naming the shapes), allocates
 * its output on the inputs' backend and records itself on the tape when a gradient is wanted.
 * Axis arguments may be negative (from the end).
 */
public final class Ops {
    private Ops() {}

    // ================================================================= helpers

    private static Tensor alloc(Backend be, Shape s) {
        return Tensor.wrap(be, be.allocate(s.size()), s);
    }

    /**
     * An op's output that the backend call writes entirely: not cleared first (in a denoising step
     * clearing every output cost 2-4% of the step on the CPU backend).
     */
    private static Tensor output(Backend be, Shape s) {
        return Tensor.wrap(be, be.allocateUninitialized(s.size()), s);
    }

    private static Tensor[] ins(Tensor... t) { return t; }

    private static void check(boolean ok, String msg) {
        if (!ok) throw new IllegalArgumentException(msg);
    }

    /** A contiguous copy (no gradient sharing: it is a new node). */
    public static Tensor copy(Tensor x) {
        Tensor y = alloc(x.backend(), x.shape());
        x.backend().copy(x.buffer(), 0, new long[] {1}, y.buffer(), 0, new long[] {1}, new int[] {Math.toIntExact(x.size())});
        return y.record("copy", g -> ins(copy(g)), ins(x));
    }

    // ================================================================= linear algebra

    /**
     * Matrix product. a [..., m, k] times b [k, n] (weights shared over the batch) or b [..., k, n]
     * with the same leading dims as a. Result [..., m, n].
     */
    public static Tensor matmul(Tensor a, Tensor b) {
        Tensor.requireSameBackend(a, b);
        check(a.rank() >= 2 && b.rank() >= 2, "matmul needs rank >= 2, got " + a.shape() + " and " + b.shape());
        int m = a.dim(-2), k = a.dim(-1), n = b.dim(-1);
        check(b.dim(-2) == k, "matmul: inner sizes differ, " + a.shape() + " x " + b.shape());
        int batch = (int) a.shape().prod(0, a.rank() - 2);
        boolean shared = b.rank() == 2;
        check(shared || (b.rank() == a.rank() && Arrays.equals(Arrays.copyOf(a.shape().dims(), a.rank() - 2), Arrays.copyOf(b.shape().dims(), b.rank() - 2))),
                "matmul: batch dims differ, " + a.shape() + " x " + b.shape());
        Shape os = a.shape().with(-1, n);
        Tensor y = alloc(a.backend(), os);
        Backend be = a.backend();
        if (shared) be.gemm(false, false, 1, batch * m, n, k, 1f, a.buffer(), 0, b.buffer(), 0, 0f, y.buffer(), null);
        else be.gemm(false, false, batch, m, n, k, 1f, a.buffer(), (long) m * k, b.buffer(), (long) k * n, 0f, y.buffer(), null);
        return y.record("matmul", g -> {
            Tensor ga = null, gb = null;
            if (a.requiresGrad()) {
                ga = alloc(be, a.shape());
                if (shared) be.gemm(false, true, 1, batch * m, k, n, 1f, g.buffer(), 0, b.buffer(), 0, 0f, ga.buffer(), null);
                else be.gemm(false, true, batch, m, k, n, 1f, g.buffer(), (long) m * n, b.buffer(), (long) k * n, 0f, ga.buffer(), null);
            }
            if (b.requiresGrad()) {
                gb = alloc(be, b.shape());
                if (shared) be.gemm(true, false, 1, k, n, batch * m, 1f, a.buffer(), 0, g.buffer(), 0, 0f, gb.buffer(), null);
                else be.gemm(true, false, batch, k, n, m, 1f, a.buffer(), (long) m * k, g.buffer(), (long) m * n, 0f, gb.buffer(), null);
            }
            return ins(ga, gb);
        }, ins(a, b));
    }

    /**
     * PyTorch's Linear: x [..., in], weight [out, in], bias [out] or null: x W^T + b, [..., out].
     * One GEMM with the bias fused.
     */
    public static Tensor linear(Tensor x, Tensor weight, Tensor bias) {
        Tensor.requireSameBackend(x, weight);
        check(weight.rank() == 2 && x.rank() >= 1 && x.dim(-1) == weight.dim(1),
                "linear: input " + x.shape() + " does not match weight " + weight.shape() + " [out, in]");
        int out = weight.dim(0), in = weight.dim(1);
        check(bias == null || (bias.rank() == 1 && bias.dim(0) == out), "linear: bias " + (bias == null ? "" : bias.shape()) + " is not [" + out + "]");
        int rows = Math.toIntExact(x.size() / in);
        Backend be = x.backend();
        Tensor y = output(be, x.shape().with(-1, out));
        be.gemm(false, true, 1, rows, out, in, 1f, x.buffer(), 0, weight.buffer(), 0, 0f, y.buffer(), bias == null ? null : bias.buffer());
        return y.record("linear", g -> {
            Tensor gx = null, gw = null, gb = null;
            if (x.requiresGrad()) {
                gx = alloc(be, x.shape());
                be.gemm(false, false, 1, rows, in, out, 1f, g.buffer(), 0, weight.buffer(), 0, 0f, gx.buffer(), null);
            }
            if (weight.requiresGrad()) {
                gw = alloc(be, weight.shape());
                be.gemm(true, false, 1, out, in, rows, 1f, g.buffer(), 0, x.buffer(), 0, 0f, gw.buffer(), null);
            }
            if (bias != null && bias.requiresGrad()) {
                gb = alloc(be, bias.shape());
                be.reduce(ReduceOp.SUM, g.buffer(), gb.buffer(), 1, rows, out);
            }
            return ins(gx, gw, gb);
        }, ins(x, weight, bias));
    }

    // ================================================================= elementwise

    public static Tensor add(Tensor a, Tensor b) { return binary(BinaryOp.ADD, a, b); }
    public static Tensor sub(Tensor a, Tensor b) { return binary(BinaryOp.SUB, a, b); }
    public static Tensor mul(Tensor a, Tensor b) { return binary(BinaryOp.MUL, a, b); }
    public static Tensor div(Tensor a, Tensor b) { return binary(BinaryOp.DIV, a, b); }
    public static Tensor maximum(Tensor a, Tensor b) { return binary(BinaryOp.MAX, a, b); }
    public static Tensor minimum(Tensor a, Tensor b) { return binary(BinaryOp.MIN, a, b); }

    /** Elementwise binary op with NumPy broadcasting. */
    public static Tensor binary(BinaryOp op, Tensor a, Tensor b) {
        Tensor.requireSameBackend(a, b);
        Shape os = Shape.broadcast(a.shape(), b.shape());
        Backend be = a.backend();
        Tensor y = output(be, os);
        be.binary(op, a.buffer(), a.shape().broadcastStrides(os), b.buffer(), b.shape().broadcastStrides(os), y.buffer(), os.dims());
        return y.record(op.name().toLowerCase(), g -> {
            Tensor ga = null, gb = null;
            switch (op) {
                case ADD -> { ga = a.requiresGrad() ? sumTo(g, a.shape()) : null; gb = b.requiresGrad() ? sumTo(g, b.shape()) : null; }
                case SUB -> { ga = a.requiresGrad() ? sumTo(g, a.shape()) : null; if (b.requiresGrad()) { Tensor n = affine(g, -1f, 0f); gb = sumTo(n, b.shape()); if (gb != n) n.close(); } }
                case MUL -> { if (a.requiresGrad()) ga = reduced(binary(BinaryOp.MUL, g, b), a.shape()); if (b.requiresGrad()) gb = reduced(binary(BinaryOp.MUL, g, a), b.shape()); }
                case DIV -> {
                    if (a.requiresGrad()) ga = reduced(binary(BinaryOp.DIV, g, b), a.shape());
                    if (b.requiresGrad()) { // d(a/b)/db = -a/b^2 = -y/b
                        Tensor t = binary(BinaryOp.DIV, y, b), t2 = binary(BinaryOp.MUL, g, t);
                        t.close();
                        be.affine(t2.buffer(), t2.buffer(), t2.size(), -1f, 0f);
                        gb = reduced(t2, b.shape());
                    }
                }
                case MAX, MIN -> {
                    // the gradient goes to a where a >= b (MAX) or a <= b (MIN), ties to a; the rest to b
                    try (NoGrad ng = NoGrad.enter(); Tensor pick = compare(op == BinaryOp.MAX ? CompareOp.GE : CompareOp.LE, a, b);
                         Tensor zero = Tensor.scalar(be, 0f)) {
                        if (a.requiresGrad()) ga = reduced(where(pick, g, zero), a.shape());
                        if (b.requiresGrad()) gb = reduced(where(pick, zero, g), b.shape());
                    }
                }
            }
            return ins(ga, gb);
        }, ins(a, b));
    }

    /** 1 where {@code a op b} holds, else 0, with NumPy broadcasting (see {@link CompareOp}); no gradient flows through it. */
    public static Tensor compare(CompareOp op, Tensor a, Tensor b) {
        Tensor.requireSameBackend(a, b);
        Shape os = Shape.broadcast(a.shape(), b.shape());
        Tensor y = alloc(a.backend(), os);
        a.backend().compare(op, a.buffer(), a.shape().broadcastStrides(os), b.buffer(), b.shape().broadcastStrides(os), y.buffer(), os.dims());
        return y;
    }

    /**
     * {@code cond != 0 ? a : b} elementwise, with NumPy broadcasting of all three; the gradient goes
     * to a where cond holds and to b elsewhere (none to cond). The operand not picked is never read
     * into the result, so an infinity or NaN there does not leak.
     */
    public static Tensor where(Tensor cond, Tensor a, Tensor b) {
        Tensor.requireSameBackend(cond, a);
        Tensor.requireSameBackend(a, b);
        Shape os = Shape.broadcast(cond.shape(), Shape.broadcast(a.shape(), b.shape()));
        Backend be = a.backend();
        Tensor y = alloc(be, os);
        be.select(cond.buffer(), cond.shape().broadcastStrides(os), a.buffer(), a.shape().broadcastStrides(os),
                b.buffer(), b.shape().broadcastStrides(os), y.buffer(), os.dims());
        return y.record("where", g -> {
            Tensor ga = null, gb = null;
            try (Tensor zero = Tensor.scalar(be, 0f)) {
                if (a.requiresGrad()) ga = reduced(where(cond, g, zero), a.shape());
                if (b.requiresGrad()) gb = reduced(where(cond, zero, g), b.shape());
            }
            return ins(null, ga, gb);
        }, ins(cond, a, b));
    }

    private static Tensor reduced(Tensor full, Shape target) {
        Tensor r = sumTo(full, target);
        if (r != full) full.close();
        return r;
    }

    /**
     * Sums a broadcast gradient back to {@code target} (the adjoint of broadcasting). Returns
     * {@code g} itself when the shapes already agree.
     */
    public static Tensor sumTo(Tensor g, Shape target) {
        if (g.shape().equals(target)) return g;
        Shape gs = g.shape();
        int off = gs.rank() - target.rank();
        check(off >= 0, "sumTo: " + gs + " cannot reduce to " + target);
        Tensor cur = g;
        int[] dims = gs.dims();
        for (int ax = 0; ax < gs.rank(); ax++) {
            int want = ax < off ? 1 : target.dim(ax - off);
            if (dims[ax] == want) continue;
            check(want == 1, "sumTo: " + gs + " cannot reduce to " + target);
            int outer = (int) Shape.of(dims).prod(0, ax), inner = (int) Shape.of(dims).prod(ax + 1, dims.length);
            int[] nd = dims.clone();
            nd[ax] = 1;
            Tensor next = alloc(g.backend(), Shape.of(nd));
            g.backend().reduce(ReduceOp.SUM, cur.buffer(), next.buffer(), outer, dims[ax], inner);
            if (cur != g) cur.close();
            cur = next;
            dims = nd;
        }
        Tensor out = new Tensor(g.backend(), target, cur.storage.retain()); // a view with the final shape
        if (cur != g) cur.close();
        return out;
    }

    /** y = alpha x + beta. */
    public static Tensor affine(Tensor x, float alpha, float beta) {
        Tensor y = alloc(x.backend(), x.shape());
        x.backend().affine(x.buffer(), y.buffer(), x.size(), alpha, beta);
        return y.record("affine", g -> ins(affine(g, alpha, 0f)), ins(x));
    }

    /** Elementwise unary primitive (see {@link UnaryOp} for the definitions). */
    public static Tensor unary(UnaryOp op, Tensor x) {
        Tensor y = output(x.backend(), x.shape());
        x.backend().unary(op, x.buffer(), y.buffer(), x.size());
        return y.record(op.name().toLowerCase(), g -> {
            Tensor gx = alloc(x.backend(), x.shape());
            x.backend().unaryBackward(op, x.buffer(), g.buffer(), gx.buffer(), x.size());
            return ins(gx);
        }, ins(x));
    }

    public static Tensor neg(Tensor x) { return unary(UnaryOp.NEG, x); }
    public static Tensor exp(Tensor x) { return unary(UnaryOp.EXP, x); }
    public static Tensor log(Tensor x) { return unary(UnaryOp.LOG, x); }
    public static Tensor sqrt(Tensor x) { return unary(UnaryOp.SQRT, x); }
    public static Tensor rsqrt(Tensor x) { return unary(UnaryOp.RSQRT, x); }
    public static Tensor abs(Tensor x) { return unary(UnaryOp.ABS, x); }
    public static Tensor sin(Tensor x) { return unary(UnaryOp.SIN, x); }
    public static Tensor cos(Tensor x) { return unary(UnaryOp.COS, x); }
    public static Tensor tanh(Tensor x) { return unary(UnaryOp.TANH, x); }
    public static Tensor sigmoid(Tensor x) { return unary(UnaryOp.SIGMOID, x); }
    public static Tensor silu(Tensor x) { return unary(UnaryOp.SILU, x); }
    public static Tensor softplus(Tensor x) { return unary(UnaryOp.SOFTPLUS, x); }
    /** GELU, tanh approximation (PyTorch {@code approximate="tanh"}). */
    public static Tensor gelu(Tensor x) { return unary(UnaryOp.GELU_TANH, x); }
    public static Tensor relu(Tensor x) { return unary(UnaryOp.RELU, x); }
    public static Tensor square(Tensor x) { return unary(UnaryOp.SQUARE, x); }
    public static Tensor reciprocal(Tensor x) { return unary(UnaryOp.RECIPROCAL, x); }

    // ================================================================= reductions

    /** Sum over one axis; {@code keepDim} keeps it with size 1. */
    public static Tensor sum(Tensor x, int axis, boolean keepDim) { return reduce(ReduceOp.SUM, x, axis, keepDim); }

    public static Tensor mean(Tensor x, int axis, boolean keepDim) { return reduce(ReduceOp.MEAN, x, axis, keepDim); }

    /** Max over one axis (not differentiable: throws when a gradient would be needed). */
    public static Tensor max(Tensor x, int axis, boolean keepDim) { return reduce(ReduceOp.MAX, x, axis, keepDim); }

    /** Sum of all elements, shape []. */
    public static Tensor sum(Tensor x) { return reduce(ReduceOp.SUM, reshape(x, Math.toIntExact(x.size())), 0, false); }

    /** Mean of all elements, shape []. */
    public static Tensor mean(Tensor x) { return reduce(ReduceOp.MEAN, reshape(x, Math.toIntExact(x.size())), 0, false); }

    private static Tensor reduce(ReduceOp op, Tensor x, int axis, boolean keepDim) {
        Shape s = x.shape();
        int ax = s.axis(axis);
        int outer = (int) s.prod(0, ax), len = s.dim(ax), inner = (int) s.prod(ax + 1, s.rank());
        int[] kd = s.with(ax, 1).dims();
        Shape os = keepDim ? Shape.of(kd) : dropAxis(s, ax);
        if (op == ReduceOp.MAX && NoGrad.gradEnabled() && x.requiresGrad())
            throw new UnsupportedOperationException("max reduction has no gradient; compute it under NoGrad");
        Tensor y = alloc(x.backend(), os);
        x.backend().reduce(op, x.buffer(), y.buffer(), outer, len, inner);
        return y.record(op.name().toLowerCase(), g -> {
            Tensor gk = reshape(g, kd);
            Tensor gx = broadcastTo(gk, s);
            gk.close();
            if (op == ReduceOp.MEAN) x.backend().affine(gx.buffer(), gx.buffer(), gx.size(), 1f / len, 0f);
            return ins(gx);
        }, ins(x));
    }

    private static Shape dropAxis(Shape s, int ax) {
        int[] d = s.dims(), o = new int[d.length - 1];
        for (int i = 0, j = 0; i < d.length; i++) if (i != ax) o[j++] = d[i];
        return Shape.of(o);
    }

    // ================================================================= movement

    /** A view with a new shape (same memory); one size may be -1 (inferred). */
    public static Tensor reshape(Tensor x, int... dims) {
        int[] d = dims.clone();
        int infer = -1;
        long known = 1;
        for (int i = 0; i < d.length; i++) {
            if (d[i] == -1) { check(infer < 0, "reshape: more than one -1 in " + Arrays.toString(dims)); infer = i; }
            else known *= d[i];
        }
        if (infer >= 0) { check(known > 0 && x.size() % known == 0, "reshape " + x.shape() + " to " + Arrays.toString(dims)); d[infer] = (int) (x.size() / known); }
        Shape s = Shape.of(d);
        check(s.size() == x.size(), "reshape: " + x.shape() + " has " + x.size() + " elements, " + s + " needs " + s.size());
        Tensor y = new Tensor(x.backend(), s, x.storage.retain());
        return y.record("reshape", g -> ins(reshape(g, x.shape().dims())), ins(x));
    }

    /** Broadcasts x to {@code shape} (NumPy rules), materialised. */
    public static Tensor broadcastTo(Tensor x, Shape shape) {
        long[] ss = x.shape().broadcastStrides(shape);
        Tensor y = alloc(x.backend(), shape);
        x.backend().copy(x.buffer(), 0, ss, y.buffer(), 0, shape.strides(), shape.dims());
        return y.record("broadcast", g -> ins(reduced(copyNoGrad(g), x.shape())), ins(x));
    }

    private static Tensor copyNoGrad(Tensor g) {
        try (NoGrad ng = NoGrad.enter()) { return copy(g); }
    }

    /** Reorders axes: result axis i is input axis {@code axes[i]}. */
    public static Tensor permute(Tensor x, int... axes) {
        Shape s = x.shape();
        check(axes.length == s.rank(), "permute: " + Arrays.toString(axes) + " for shape " + s);
        int[] od = new int[axes.length], inv = new int[axes.length];
        long[] st = s.strides(), ss = new long[axes.length];
        boolean[] used = new boolean[axes.length];
        for (int i = 0; i < axes.length; i++) {
            int a = s.axis(axes[i]);
            check(!used[a], "permute: repeated axis in " + Arrays.toString(axes));
            used[a] = true;
            od[i] = s.dim(a); ss[i] = st[a]; inv[a] = i;
        }
        Shape os = Shape.of(od);
        Tensor y = alloc(x.backend(), os);
        x.backend().copy(x.buffer(), 0, ss, y.buffer(), 0, os.strides(), od);
        return y.record("permute", g -> ins(permute(g, inv)), ins(x));
    }

    /** Swaps two axes. */
    public static Tensor transpose(Tensor x, int a, int b) {
        int[] p = new int[x.rank()];
        for (int i = 0; i < p.length; i++) p[i] = i;
        int aa = x.shape().axis(a), bb = x.shape().axis(b);
        p[aa] = bb; p[bb] = aa;
        return permute(x, p);
    }

    /** Elements [start, end) along {@code axis}. */
    public static Tensor slice(Tensor x, int axis, int start, int end) {
        Shape s = x.shape();
        int ax = s.axis(axis);
        check(0 <= start && start <= end && end <= s.dim(ax), "slice [" + start + ", " + end + ") out of axis " + axis + " of " + s);
        Shape os = s.with(ax, end - start);
        Tensor y = output(x.backend(), os);
        long[] st = s.strides();
        x.backend().copy(x.buffer(), start * st[ax], st, y.buffer(), 0, os.strides(), os.dims());
        return y.record("slice", g -> {
            Tensor gx = alloc(x.backend(), s);
            x.backend().copy(g.buffer(), 0, os.strides(), gx.buffer(), start * st[ax], st, os.dims());
            return ins(gx);
        }, ins(x));
    }

    /** Splits {@code axis} into {@code n} equal parts (PyTorch chunk with an exact division). */
    public static List<Tensor> chunk(Tensor x, int n, int axis) {
        int len = x.dim(axis);
        check(n > 0 && len % n == 0, "chunk: axis " + axis + " of " + x.shape() + " does not split into " + n);
        int step = len / n;
        List<Tensor> out = new ArrayList<>(n);
        for (int i = 0; i < n; i++) out.add(slice(x, axis, i * step, (i + 1) * step));
        return out;
    }

    /** Splits {@code axis} into parts of the given sizes (PyTorch split with a list). */
    public static List<Tensor> split(Tensor x, int axis, int... sizes) {
        int total = 0;
        for (int v : sizes) total += v;
        check(total == x.dim(axis), "split: sizes " + Arrays.toString(sizes) + " do not sum to axis " + axis + " of " + x.shape());
        List<Tensor> out = new ArrayList<>(sizes.length);
        int at = 0;
        for (int v : sizes) { out.add(slice(x, axis, at, at + v)); at += v; }
        return out;
    }

    /** Concatenates along {@code axis}; all other sizes must agree. */
    public static Tensor concat(int axis, Tensor... xs) {
        check(xs.length > 0, "concat of nothing");
        Shape s0 = xs[0].shape();
        int ax = s0.axis(axis), total = 0;
        for (Tensor t : xs) {
            Tensor.requireSameBackend(xs[0], t);
            check(t.rank() == s0.rank() && t.shape().with(ax, 1).equals(s0.with(ax, 1)), "concat: " + t.shape() + " does not match " + s0 + " outside axis " + axis);
            total += t.dim(ax);
        }
        Shape os = s0.with(ax, total);
        Backend be = xs[0].backend();
        Tensor y = alloc(be, os);
        long[] ost = os.strides();
        int at = 0;
        for (Tensor t : xs) {
            be.copy(t.buffer(), 0, t.shape().strides(), y.buffer(), at * ost[ax], ost, t.shape().dims());
            at += t.dim(ax);
        }
        int[] starts = new int[xs.length];
        for (int i = 1; i < xs.length; i++) starts[i] = starts[i - 1] + xs[i - 1].dim(ax);
        return y.record("concat", g -> {
            Tensor[] gs = new Tensor[xs.length];
            for (int i = 0; i < xs.length; i++) if (xs[i].requiresGrad()) gs[i] = slice(g, ax, starts[i], starts[i] + xs[i].dim(ax));
            return gs;
        }, xs.clone());
    }

    /**
     * Index select along {@code axis}: result has {@code index.length} at that axis,
     * {@code y[..., i, ...] = x[..., index[i], ...]}. Scan orders, patch reorderings, embedding rows.
     */
    public static Tensor gather(Tensor x, int axis, int[] index) {
        Shape s = x.shape();
        int ax = s.axis(axis), len = s.dim(ax);
        for (int i : index) check(i >= 0 && i < len, "gather: index " + i + " out of range for axis " + axis + " of " + s);
        int outer = (int) s.prod(0, ax), inner = (int) s.prod(ax + 1, s.rank());
        Shape os = s.with(ax, index.length);
        int[] idx = index.clone();
        Tensor y = output(x.backend(), os);
        x.backend().gather(x.buffer(), y.buffer(), outer, len, inner, idx);
        return y.record("gather", g -> {
            Tensor gx = alloc(x.backend(), s);
            x.backend().scatterAdd(g.buffer(), gx.buffer(), outer, len, inner, idx);
            return ins(gx);
        }, ins(x));
    }

    // ================================================================= normalisation

    /** Softmax over the last axis. */
    public static Tensor softmax(Tensor x) {
        int cols = x.dim(-1), rows = Math.toIntExact(x.size() / cols);
        Tensor y = alloc(x.backend(), x.shape());
        x.backend().softmax(x.buffer(), y.buffer(), rows, cols);
        return y.record("softmax", g -> {
            Tensor gx = alloc(x.backend(), x.shape());
            x.backend().softmaxBackward(y.buffer(), g.buffer(), gx.buffer(), rows, cols);
            return ins(gx);
        }, ins(x));
    }

    /**
     * Floats in one score slice of {@link #attention}: 4M (16 MB), i.e. all heads of a 256-token
     * step at once, one head of 1024 rows x 4096 keys at 4096 tokens.
     */
    static final long ATTENTION_SLICE_FLOATS = 1L << 22;

    /**
     * Scaled dot-product attention, {@code softmax(q k^T scale) v}: q [..., L, Dh], k and v
     * [..., S, Dh] with the same leading dims (batch, heads); result [..., L, Dh].
     * <p>Memory-efficient: the [L, S] scores are computed in slices (groups of heads, or chunks of
     * query rows when one head's scores exceed {@link #ATTENTION_SLICE_FLOATS}), so the transient
     * memory is about one slice, not [..., L, S]. The forward keeps no probabilities: the backward
     * recomputes them slice by slice from q and k (flash-attention style) and uses
     * {@code dS = P (dP - rowsum(dO o))}. Equal to {@code softmax(matmul(q, k^T) scale) v} up to
     * float rounding; composed from the backend's GEMM, softmax, copy, binary and reduce.
     */
    public static Tensor attention(Tensor q, Tensor k, Tensor v, float scale) {
        return attention(q, k, v, scale, ATTENTION_SLICE_FLOATS);
    }

    /** {@link #attention(Tensor, Tensor, Tensor, float)} with a given slice size (tests use small ones). */
    static Tensor attention(Tensor q, Tensor k, Tensor v, float scale, long sliceFloats) {
        Tensor.requireSameBackend(q, k);
        Tensor.requireSameBackend(q, v);
        check(q.rank() >= 2 && k.shape().equals(v.shape()) && k.rank() == q.rank()
                        && q.dim(-1) == k.dim(-1) && q.shape().with(-2, 1).equals(k.shape().with(-2, 1)),
                "attention: q " + q.shape() + " must be [..., L, Dh], k " + k.shape() + " and v " + v.shape() + " [..., S, Dh] with the same leading dims");
        check(sliceFloats > 0, "attention: slice size " + sliceFloats);
        AttentionPlan p = new AttentionPlan(q, k, scale, sliceFloats);
        Backend be = q.backend();
        Tensor y = alloc(be, q.shape());
        for (int h0 = 0; h0 < p.n; h0 += p.groupHeads) {
            int g = Math.min(p.groupHeads, p.n - h0);
            DeviceBuffer ks = p.part(k.buffer(), (long) h0 * p.s * p.dh, (long) g * p.s * p.dh),
                         vs = p.part(v.buffer(), (long) h0 * p.s * p.dh, (long) g * p.s * p.dh);
            try {
                for (int r0 = 0; r0 < p.l; r0 += p.rows) {
                    int r = Math.min(p.rows, p.l - r0);
                    long at = ((long) h0 * p.l + r0) * p.dh, cnt = (long) g * r * p.dh;
                    DeviceBuffer qs = p.part(q.buffer(), at, cnt), sc = be.allocate((long) g * r * p.s);
                    DeviceBuffer os = p.all(g, r) ? y.buffer() : be.allocate(cnt);
                    try {
                        p.probabilities(qs, ks, sc, g, r);
                        be.gemm(false, false, g, r, p.dh, p.s, 1f, sc, (long) r * p.s, vs, (long) p.s * p.dh, 0f, os, null);
                        if (os != y.buffer()) p.put(os, y.buffer(), at, cnt);
                    } finally {
                        p.free(qs, q.buffer()); sc.close(); p.free(os, y.buffer());
                    }
                }
            } finally {
                p.free(ks, k.buffer()); p.free(vs, v.buffer());
            }
        }
        return y.record("attention", g -> attentionBackward(p, q, k, v, y, g), ins(q, k, v));
    }

    private static Tensor[] attentionBackward(AttentionPlan p, Tensor q, Tensor k, Tensor v, Tensor y, Tensor dy) {
        Backend be = q.backend();
        boolean wq = q.requiresGrad(), wk = k.requiresGrad(), wv = v.requiresGrad();
        Tensor dq = wq ? alloc(be, q.shape()) : null, dk = wk ? alloc(be, k.shape()) : null, dv = wv ? alloc(be, v.shape()) : null;
        long kvHead = (long) p.s * p.dh;
        for (int h0 = 0; h0 < p.n; h0 += p.groupHeads) {
            int g = Math.min(p.groupHeads, p.n - h0);
            long kat = h0 * kvHead, kcnt = g * kvHead;
            DeviceBuffer ks = p.part(k.buffer(), kat, kcnt), vs = p.part(v.buffer(), kat, kcnt);
            // dK and dV of this head group, accumulated over the query-row chunks
            DeviceBuffer dks = !wk ? null : g == p.n ? dk.buffer() : be.allocate(kcnt);
            DeviceBuffer dvs = !wv ? null : g == p.n ? dv.buffer() : be.allocate(kcnt);
            try {
                for (int r0 = 0; r0 < p.l; r0 += p.rows) {
                    int r = Math.min(p.rows, p.l - r0);
                    long at = ((long) h0 * p.l + r0) * p.dh, cnt = (long) g * r * p.dh, rs = (long) r * p.s;
                    float beta = r0 == 0 ? 0f : 1f;
                    DeviceBuffer qs = p.part(q.buffer(), at, cnt), dos = p.part(dy.buffer(), at, cnt), pr = be.allocate(g * rs), dp = null;
                    try {
                        p.probabilities(qs, ks, pr, g, r);
                        if (wv) be.gemm(true, false, g, p.s, p.dh, r, 1f, pr, rs, dos, (long) r * p.dh, beta, dvs, null);
                        if (wq || wk) {
                            // D = rowsum(dO o) from the kept output; dS = P (dO v^T - D), in place in dp
                            DeviceBuffer os = p.part(y.buffer(), at, cnt), prod = be.allocate(cnt), rowD = be.allocate((long) g * r);
                            try {
                                int[] flat = {Math.toIntExact(cnt)};
                                be.binary(BinaryOp.MUL, dos, new long[] {1}, os, new long[] {1}, prod, flat);
                                be.reduce(ReduceOp.SUM, prod, rowD, g * r, p.dh, 1);
                                dp = be.allocate(g * rs);
                                be.gemm(false, true, g, r, p.s, p.dh, 1f, dos, (long) r * p.dh, vs, kvHead, 0f, dp, null);
                                be.binary(BinaryOp.SUB, dp, new long[] {p.s, 1}, rowD, new long[] {1, 0}, dp, new int[] {g * r, p.s});
                            } finally {
                                p.free(os, y.buffer()); prod.close(); rowD.close();
                            }
                            int[] flat = {Math.toIntExact(g * rs)};
                            be.binary(BinaryOp.MUL, dp, new long[] {1}, pr, new long[] {1}, dp, flat);
                            pr.close(); // P is not needed past here: free it before the dQ / dK GEMMs
                            if (wq) {
                                DeviceBuffer dqs = p.all(g, r) ? dq.buffer() : be.allocate(cnt);
                                be.gemm(false, false, g, r, p.dh, p.s, p.scale, dp, rs, ks, kvHead, 0f, dqs, null);
                                if (dqs != dq.buffer()) { p.put(dqs, dq.buffer(), at, cnt); dqs.close(); }
                            }
                            if (wk) be.gemm(true, false, g, p.s, p.dh, r, p.scale, dp, rs, qs, (long) r * p.dh, beta, dks, null);
                        }
                    } finally {
                        p.free(qs, q.buffer()); p.free(dos, dy.buffer()); pr.close();
                        if (dp != null) dp.close();
                    }
                }
                if (wk && dks != dk.buffer()) p.put(dks, dk.buffer(), kat, kcnt);
                if (wv && dvs != dv.buffer()) p.put(dvs, dv.buffer(), kat, kcnt);
            } finally {
                p.free(ks, k.buffer()); p.free(vs, v.buffer());
                if (wk) p.free(dks, dk.buffer());
                if (wv) p.free(dvs, dv.buffer());
            }
        }
        return ins(dq, dk, dv);
    }

    /** How {@link #attention} slices its work: groups of whole heads, or one head in chunks of query rows. */
    private static final class AttentionPlan {
        final Backend be;
        final int n, l, s, dh, groupHeads, rows;
        final float scale;

        AttentionPlan(Tensor q, Tensor k, float scale, long sliceFloats) {
            be = q.backend();
            l = q.dim(-2); s = k.dim(-2); dh = q.dim(-1);
            n = (int) q.shape().prod(0, q.rank() - 2);
            this.scale = scale;
            long perHead = (long) l * s;
            if (perHead <= sliceFloats) { groupHeads = (int) Math.max(1, Math.min(n, sliceFloats / perHead)); rows = l; }
            else { groupHeads = 1; rows = (int) Math.max(1, Math.min(l, sliceFloats / s)); }
        }

        /** True when a slice of g heads x r rows is all of q (no copies needed). */
        boolean all(int g, int r) { return g == n && r == l; }

        /** buf[at, at+count) as its own buffer: buf itself when that is all of it, else a copy (GEMM takes no offsets). */
        DeviceBuffer part(DeviceBuffer buf, long at, long count) {
            if (at == 0 && count == buf.size()) return buf;
            DeviceBuffer d = be.allocate(count);
            be.copy(buf, at, new long[] {1}, d, 0, new long[] {1}, new int[] {Math.toIntExact(count)});
            return d;
        }

        void put(DeviceBuffer src, DeviceBuffer dst, long at, long count) {
            be.copy(src, 0, new long[] {1}, dst, at, new long[] {1}, new int[] {Math.toIntExact(count)});
        }

        /** Closes a buffer made by {@link #part} (never the tensor's own). */
        void free(DeviceBuffer part, DeviceBuffer owner) {
            if (part != null && part != owner) part.close();
        }

        /** P = softmax(q k^T scale) of g heads x r query rows into pr [g, r, s]. */
        void probabilities(DeviceBuffer qs, DeviceBuffer ks, DeviceBuffer pr, int g, int r) {
            be.gemm(false, true, g, r, s, dh, scale, qs, (long) r * dh, ks, (long) s * dh, 0f, pr, null);
            be.softmax(pr, pr, g * r, s);
        }
    }

    /** LayerNorm over the last axis; gamma and beta [C] or null (no affine, as SISMA's LN). */
    public static Tensor layerNorm(Tensor x, Tensor gamma, Tensor beta, float eps) {
        int cols = x.dim(-1), rows = Math.toIntExact(x.size() / cols);
        check(gamma == null || gamma.shape().equals(Shape.of(cols)), "layerNorm: gamma " + (gamma == null ? "" : gamma.shape()) + " for input " + x.shape());
        check(beta == null || beta.shape().equals(Shape.of(cols)), "layerNorm: beta " + (beta == null ? "" : beta.shape()) + " for input " + x.shape());
        Backend be = x.backend();
        Tensor y = alloc(be, x.shape()), mean = alloc(be, Shape.of(rows)), rstd = alloc(be, Shape.of(rows));
        be.layerNorm(x.buffer(), buf(gamma), buf(beta), y.buffer(), mean.buffer(), rstd.buffer(), rows, cols, eps);
        return y.record("layerNorm", g -> {
            Tensor gx = alloc(be, x.shape());
            Tensor gg = gamma != null && gamma.requiresGrad() ? alloc(be, gamma.shape()) : null;
            Tensor gb = beta != null && beta.requiresGrad() ? alloc(be, beta.shape()) : null;
            be.layerNormBackward(x.buffer(), buf(gamma), mean.buffer(), rstd.buffer(), g.buffer(), gx.buffer(),
                    gamma == null ? null : buf(gg), gamma == null ? null : buf(gb), rows, cols);
            return ins(gx, gg, gb);
        }, ins(x, gamma, beta), mean, rstd);
    }

    // ================================================================= fused AdaLN and Mamba gates
    //
    // One backend call each when no tape is recorded (inference): no temporaries, one pass over
    // memory. When a gradient is wanted they are the plain compositions below, whose backward the
    // tape already has (training keeps its exact arithmetic).

    private static boolean taped(Tensor... ts) {
        if (!NoGrad.gradEnabled()) return false;
        for (Tensor t : ts) if (t.requiresGrad()) return true;
        return false;
    }

    /** [B, D] to [B, 1, D]: a per-sample vector broadcast over the tokens. */
    private static Tensor perSample(Tensor v) {
        return reshape(v, v.dim(0), 1, v.dim(1));
    }

    private static void checkPerSample(String op, Tensor x, Tensor... vs) {
        check(x.rank() == 3, op + ": input " + x.shape() + " is not [B, T, D]");
        for (Tensor v : vs) {
            check(v.shape().equals(Shape.of(x.dim(0), x.dim(2))), op + ": " + v.shape() + " is not [B, D] for input " + x.shape());
            Tensor.requireSameBackend(x, v);
        }
    }

    /** AdaLN's modulation {@code x * (1 + scale) + shift}: x [B, T, D], shift and scale [B, D] (per sample). */
    public static Tensor modulate(Tensor x, Tensor shift, Tensor scale) {
        checkPerSample("modulate", x, shift, scale);
        if (taped(x, shift, scale)) return add(mul(x, perSample(scale).add(1f)), perSample(shift));
        Tensor y = output(x.backend(), x.shape());
        x.backend().modulate(x.buffer(), shift.buffer(), scale.buffer(), y.buffer(), x.dim(0), x.dim(1), x.dim(2));
        return y;
    }

    /** {@link #layerNorm} (no affine) then {@link #modulate}: AdaLN's input to each branch. */
    public static Tensor layerNormModulate(Tensor x, Tensor shift, Tensor scale, float eps) {
        checkPerSample("layerNormModulate", x, shift, scale);
        if (taped(x, shift, scale)) return modulate(layerNorm(x, null, null, eps), shift, scale);
        Tensor y = output(x.backend(), x.shape());
        x.backend().layerNormModulate(x.buffer(), shift.buffer(), scale.buffer(), y.buffer(), x.dim(0), x.dim(1), x.dim(2), eps);
        return y;
    }

    /** AdaLN-Zero's gated residual {@code x + gate * y}: x, y [B, T, D], gate [B, D] (per sample). */
    public static Tensor gatedResidual(Tensor x, Tensor gate, Tensor y) {
        checkPerSample("gatedResidual", x, gate);
        check(y.shape().equals(x.shape()), "gatedResidual: branch " + y.shape() + " for input " + x.shape());
        Tensor.requireSameBackend(x, y);
        if (taped(x, gate, y)) return add(x, mul(perSample(gate), y));
        Tensor out = output(x.backend(), x.shape());
        x.backend().gatedResidual(x.buffer(), gate.buffer(), y.buffer(), out.buffer(), x.dim(0), x.dim(1), x.dim(2));
        return out;
    }

    /**
     * Mamba's output gate {@code x * silu(z)} with z = {@code zz[..., zFrom : zFrom + C]} for x [..., C]
     * (z read in place, e.g. the second half of in_proj's output, without the copy a slice makes).
     */
    public static Tensor siluGate(Tensor x, Tensor zz, int zFrom) {
        int cols = x.dim(-1), zcols = zz.dim(-1);
        check(zz.rank() == x.rank() && zz.size() / zcols == x.size() / cols && zFrom >= 0 && zFrom + cols <= zcols,
                "siluGate: z columns [" + zFrom + ", " + (zFrom + cols) + ") of " + zz.shape() + " for input " + x.shape());
        Tensor.requireSameBackend(x, zz);
        if (taped(x, zz)) return mul(x, silu(slice(zz, -1, zFrom, zFrom + cols)));
        Tensor out = output(x.backend(), x.shape());
        x.backend().siluGate(x.buffer(), zz.buffer(), zFrom, zcols, out.buffer(), Math.toIntExact(x.size() / cols), cols);
        return out;
    }

    /** GroupNorm of x [N, C, ...] in {@code groups} groups; gamma, beta [C] or null. */
    public static Tensor groupNorm(Tensor x, int groups, Tensor gamma, Tensor beta, float eps) {
        check(x.rank() >= 2, "groupNorm: input " + x.shape() + " is not [N, C, ...]");
        int n = x.dim(0), c = x.dim(1), hw = (int) x.shape().prod(2, x.rank());
        check(groups > 0 && c % groups == 0, "groupNorm: " + c + " channels do not split into " + groups + " groups");
        Backend be = x.backend();
        Tensor y = alloc(be, x.shape()), mean = alloc(be, Shape.of(n, groups)), rstd = alloc(be, Shape.of(n, groups));
        be.groupNorm(x.buffer(), buf(gamma), buf(beta), y.buffer(), mean.buffer(), rstd.buffer(), n, c, hw, groups, eps);
        return y.record("groupNorm", g -> {
            Tensor gx = alloc(be, x.shape());
            Tensor gg = gamma != null && gamma.requiresGrad() ? alloc(be, gamma.shape()) : null;
            Tensor gb = beta != null && beta.requiresGrad() ? alloc(be, beta.shape()) : null;
            be.groupNormBackward(x.buffer(), buf(gamma), mean.buffer(), rstd.buffer(), g.buffer(), gx.buffer(),
                    gamma == null ? null : buf(gg), gamma == null ? null : buf(gb), n, c, hw, groups);
            return ins(gx, gg, gb);
        }, ins(x, gamma, beta), mean, rstd);
    }

    private static dev.sisma.engine.spi.DeviceBuffer buf(Tensor t) { return t == null ? null : t.buffer(); }

    // ================================================================= convolutions

    /** Conv2d, NCHW: x [N, Cin, H, W], weight [Cout, Cin, kh, kw], bias [Cout] or null. */
    public static Tensor conv2d(Tensor x, Tensor weight, Tensor bias, int stride, int padding) {
        check(x.rank() == 4 && weight.rank() == 4 && weight.dim(1) == x.dim(1), "conv2d: input " + x.shape() + " does not match weight " + weight.shape());
        check(bias == null || bias.shape().equals(Shape.of(weight.dim(0))), "conv2d: bias shape for weight " + weight.shape());
        Conv2dShape cs = new Conv2dShape(x.dim(0), x.dim(1), x.dim(2), x.dim(3), weight.dim(0), weight.dim(2), weight.dim(3), stride, padding);
        Backend be = x.backend();
        Tensor y = alloc(be, Shape.of(cs.n(), cs.cout(), cs.outH(), cs.outW()));
        be.conv2d(x.buffer(), weight.buffer(), buf(bias), y.buffer(), cs);
        return y.record("conv2d", g -> {
            Tensor gx = null, gw = null, gb = null;
            if (x.requiresGrad()) { gx = alloc(be, x.shape()); be.conv2dBackwardInput(g.buffer(), weight.buffer(), gx.buffer(), cs); }
            if (weight.requiresGrad() || (bias != null && bias.requiresGrad())) {
                gw = alloc(be, weight.shape());
                gb = bias == null ? null : alloc(be, bias.shape());
                be.conv2dBackwardWeight(x.buffer(), g.buffer(), gw.buffer(), buf(gb), cs);
            }
            return ins(gx, gw, gb);
        }, ins(x, weight, bias));
    }

    /**
     * Mamba's depthwise causal conv along the sequence: x [B, L, C] (channels-last), weight
     * [C, 1, K] or [C, K], bias [C] or null; left zero padding K-1, output [B, L, C].
     */
    public static Tensor depthwiseCausalConv1d(Tensor x, Tensor weight, Tensor bias) {
        check(x.rank() == 3, "depthwiseCausalConv1d: input " + x.shape() + " is not [B, L, C]");
        int b = x.dim(0), l = x.dim(1), c = x.dim(2), k = weight.dim(-1);
        check(weight.size() == (long) c * k && weight.dim(0) == c, "depthwiseCausalConv1d: weight " + weight.shape() + " is not [" + c + ", 1, K]");
        check(bias == null || bias.shape().equals(Shape.of(c)), "depthwiseCausalConv1d: bias is not [" + c + "]");
        Backend be = x.backend();
        Tensor y = output(be, x.shape());
        be.depthwiseCausalConv1d(x.buffer(), weight.buffer(), buf(bias), y.buffer(), b, l, c, k);
        return y.record("depthwiseCausalConv1d", g -> {
            Tensor gx = alloc(be, x.shape()), gw = alloc(be, weight.shape()), gb = bias == null ? null : alloc(be, bias.shape());
            be.depthwiseCausalConv1dBackward(x.buffer(), weight.buffer(), g.buffer(), gx.buffer(), gw.buffer(), buf(gb), b, l, c, k);
            return ins(gx, gw, gb);
        }, ins(x, weight, bias));
    }

    // ================================================================= Mamba

    /**
     * The Mamba-1 selective scan (see {@link Backend#selectiveScan}): u, delta [B, L, E],
     * a [E, N] (already negative: -exp(A_log)), bm, cm [B, L, N], d [E] or null. Returns y [B, L, E].
     */
    public static Tensor selectiveScan(Tensor u, Tensor delta, Tensor a, Tensor bm, Tensor cm, Tensor d) {
        check(u.rank() == 3 && delta.shape().equals(u.shape()), "selectiveScan: u " + u.shape() + " and delta " + delta.shape() + " must both be [B, L, E]");
        int b = u.dim(0), l = u.dim(1), e = u.dim(2);
        check(a.rank() == 2 && a.dim(0) == e, "selectiveScan: A " + a.shape() + " is not [" + e + ", N]");
        int n = a.dim(1);
        check(bm.shape().equals(Shape.of(b, l, n)) && cm.shape().equals(Shape.of(b, l, n)), "selectiveScan: B " + bm.shape() + " / C " + cm.shape() + " are not [" + b + ", " + l + ", " + n + "]");
        check(d == null || d.shape().equals(Shape.of(e)), "selectiveScan: D " + (d == null ? "" : d.shape()) + " is not [" + e + "]");
        Backend be = u.backend();
        Tensor y = output(be, u.shape());
        be.selectiveScan(u.buffer(), delta.buffer(), a.buffer(), bm.buffer(), cm.buffer(), buf(d), y.buffer(), b, l, e, n);
        return y.record("selectiveScan", g -> {
            Tensor du = alloc(be, u.shape()), dd = alloc(be, delta.shape()), da = alloc(be, a.shape()),
                   db = alloc(be, bm.shape()), dc = alloc(be, cm.shape()), dD = d == null ? null : alloc(be, d.shape());
            be.selectiveScanBackward(u.buffer(), delta.buffer(), a.buffer(), bm.buffer(), cm.buffer(), buf(d), g.buffer(),
                    du.buffer(), dd.buffer(), da.buffer(), db.buffer(), dc.buffer(), buf(dD), b, l, e, n);
            return ins(du, dd, da, db, dc, dD);
        }, ins(u, delta, a, bm, cm, d));
    }

    // ================================================================= composites

    /** Mean squared error, mean over all elements: mean((a - b)^2), shape []. */
    public static Tensor mseLoss(Tensor a, Tensor b) {
        check(a.shape().equals(b.shape()), "mseLoss: shapes " + a.shape() + " and " + b.shape() + " differ");
        Tensor d = sub(a, b), s = square(d);
        return mean(s);
    }

    /** Average pooling with kernel = stride = k (area downsampling) of x [N, C, H, W]; H, W divisible by k. */
    public static Tensor avgPool2d(Tensor x, int k) {
        check(x.rank() == 4 && k > 0 && x.dim(2) % k == 0 && x.dim(3) % k == 0, "avgPool2d: " + x.shape() + " does not divide by " + k);
        int n = x.dim(0), c = x.dim(1), ho = x.dim(2) / k, wo = x.dim(3) / k;
        Tensor r1 = reshape(x, n * c * ho, k, x.dim(3));   // rows grouped by k
        Tensor m1 = mean(r1, 1, false);                      // [n c ho, W]
        Tensor r2 = reshape(m1, n * c * ho * wo, k);
        Tensor m2 = mean(r2, 1, false);
        return reshape(m2, n, c, ho, wo);
    }

    /** Nearest-neighbour upsampling of x [N, C, H, W] by an integer factor. */
    public static Tensor upsampleNearest2d(Tensor x, int factor) {
        check(x.rank() == 4 && factor > 0, "upsampleNearest2d: " + x.shape() + " by " + factor);
        int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
        Tensor r = reshape(x, n, c, h, 1, w, 1);
        Tensor e = broadcastTo(r, Shape.of(n, c, h, factor, w, factor));
        return reshape(e, n, c, h * factor, w * factor);
    }
}
