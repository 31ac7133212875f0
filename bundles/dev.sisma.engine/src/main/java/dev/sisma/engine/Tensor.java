package dev.sisma.engine;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * A float32 tensor: an immutable {@link Shape}, the {@link Backend} that holds its memory, and
 * (when it takes part in autograd) its producer on the tape. Always contiguous row-major; views
 * that share memory ({@link #reshape}, {@link #detach}) are cheap, every other op allocates.
 *
 * <p><b>Lifetime.</b> Memory is freed by {@link #close()} or by the enclosing {@link Scope}; there
 * are no finalizers. Closing a tensor twice is harmless; using a closed one throws.
 *
 * <p><b>Autograd.</b> Reverse mode, recorded only when some input {@link #requiresGrad()} and no
 * {@link NoGrad} is open. {@link #backward()} accumulates into the leaves' {@link #grad()}.
 * Tensors of the graph must stay open until backward has run (use one scope for forward and backward).
 *
 * <p>Ops are in {@link Ops}; the common ones have instance shortcuts here.
 */
public final class Tensor implements AutoCloseable {
    private final Backend backend;
    private final Shape shape;
    final Storage storage;
    private boolean closed;
    Scope scope;

    // autograd
    private boolean requiresGrad;
    /** An input of a recorded node: that node's backward may read it, so {@link #free()} keeps it. */
    private boolean readByTape;
    Node node;
    private Tensor grad;

    /** A recorded op: its inputs and the function from the output gradient to input gradients. */
    record Node(String op, Tensor[] inputs, Backward backward, AutoCloseable[] saved) {}

    /** Maps the output gradient to one gradient per input (null where an input needs none). */
    @FunctionalInterface
    interface Backward {
        Tensor[] apply(Tensor gradOut);
    }

    Tensor(Backend backend, Shape shape, Storage storage) {
        this.backend = backend;
        this.shape = shape;
        this.storage = storage;
        Scope.register(this);
    }

    // ------------------------------------------------------------ creation

    /** Wraps a buffer the caller made on {@code backend} (ownership moves to the tensor). */
    public static Tensor wrap(Backend backend, DeviceBuffer buffer, Shape shape) {
        if (buffer.size() != shape.size())
            throw new IllegalArgumentException("buffer of " + buffer.size() + " floats does not hold shape " + shape);
        return new Tensor(backend, shape, new Storage(buffer));
    }

    /** A tensor holding a copy of {@code values} with the given shape. */
    public static Tensor of(Backend backend, float[] values, int... shape) {
        Shape s = Shape.of(shape);
        if (values.length != s.size())
            throw new IllegalArgumentException(values.length + " values do not fill shape " + s);
        return wrap(backend, backend.upload(values), s);
    }

    public static Tensor scalar(Backend backend, float value) {
        return of(backend, new float[] {value});
    }

    public static Tensor zeros(Backend backend, int... shape) {
        Shape s = Shape.of(shape);
        return wrap(backend, backend.allocate(s.size()), s);
    }

    public static Tensor full(Backend backend, float value, int... shape) {
        Tensor t = zeros(backend, shape);
        if (value != 0) backend.fill(t.buffer(), 0, t.size(), value);
        return t;
    }

    /** Standard normal values, element i = {@link dev.sisma.engine.spi.Philox#normalAt}(seed, offset, i). */
    public static Tensor randn(Backend backend, long seed, long offset, int... shape) {
        Tensor t = zeros(backend, shape);
        backend.randomNormal(t.buffer(), t.size(), seed, offset);
        return t;
    }

    /** Uniform values in (0, 1), element i = {@link dev.sisma.engine.spi.Philox#uniformAt}(seed, offset, i). */
    public static Tensor rand(Backend backend, long seed, long offset, int... shape) {
        Tensor t = zeros(backend, shape);
        backend.randomUniform(t.buffer(), t.size(), seed, offset);
        return t;
    }

    // ------------------------------------------------------------ accessors

    public Shape shape() { return shape; }

    public Backend backend() { return backend; }

    public long size() { return shape.size(); }

    public int rank() { return shape.rank(); }

    /** Size of axis i (negative counts from the end). */
    public int dim(int i) { return shape.dim(i); }

    /** The backend buffer (for backends, file I/O and optimizers). Throws when closed. */
    public DeviceBuffer buffer() {
        if (closed) throw new IllegalStateException("tensor " + shape + " is closed");
        return storage.buffer;
    }

    public boolean isClosed() { return closed; }

    /** Takes this tensor out of its {@link Scope}: the caller now closes it (parameters, caches). Returns this. */
    public Tensor detachFromScope() {
        Scope.release(this);
        return this;
    }

    /** Copies the values to the host. */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(size())];
        backend.download(buffer(), 0, out, 0, out.length);
        return out;
    }

    /** The single value of a one-element tensor. */
    public float item() {
        if (size() != 1) throw new IllegalStateException("item() of a tensor of shape " + shape);
        float[] v = new float[1];
        backend.download(buffer(), 0, v, 0, 1);
        return v[0];
    }

    /**
     * Frees the memory now, unless autograd may still need it: a leaf that wants a gradient, a
     * result recorded on the tape, or an input a recorded op's backward may read. Inference (no
     * tape) frees an activation this way right after its last use instead of when its
     * {@link Scope} closes, so a long forward holds a few activations at a time, not all of them
     * (sisma-L/2 at 4096 tokens: a block makes about 0.9 GB of them). Returns whether it closed.
     */
    public boolean free() {
        if (requiresGrad || node != null || readByTape) return false;
        close();
        return true;
    }

    /** Frees the memory (shared views keep it alive) and this tensor's accumulated gradient. Idempotent. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        storage.release();
        if (grad != null) { grad.close(); grad = null; }
        node = null;
    }

    // ------------------------------------------------------------ autograd

    /** True for a leaf marked with {@link #requiresGrad(boolean)} and for results computed from one (with grad enabled). */
    public boolean requiresGrad() { return requiresGrad || node != null; }

    /** Marks a leaf as wanting a gradient; returns this. */
    public Tensor requiresGrad(boolean value) {
        if (node != null) throw new IllegalStateException("requiresGrad can only be set on a leaf tensor");
        requiresGrad = value;
        return this;
    }

    /** The accumulated gradient of a leaf, or null. Owned by this tensor (never by a scope). */
    public Tensor grad() { return grad; }

    /** Frees the accumulated gradient. */
    public void zeroGrad() {
        if (grad != null) { grad.close(); grad = null; }
    }

    /** A tensor sharing this one's memory, without history. */
    public Tensor detach() {
        return new Tensor(backend, shape, storage.retain());
    }

    /** Backward pass from a one-element tensor (d self = 1). */
    public void backward() {
        if (size() != 1) throw new IllegalStateException("backward() needs a scalar; got shape " + shape + " (pass a gradient)");
        backward(Tensor.full(backend, 1f, shape.dims()));
    }

    /**
     * Backward pass with the given gradient of this tensor (consumed: it is closed or moved).
     * Runs every recorded node once in reverse topological order, accumulates into leaf
     * {@link #grad()}s, frees the intermediate gradients and the tape's saved statistics.
     */
    public void backward(Tensor gradient) {
        if (!gradient.shape.equals(shape)) throw new IllegalArgumentException("gradient shape " + gradient.shape + " != " + shape);
        List<Tensor> order = topoOrder(this);
        Map<Tensor, Tensor> grads = new IdentityHashMap<>();
        grads.put(this, gradient);
        try (NoGrad ng = NoGrad.enter()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                Tensor t = order.get(i);
                Tensor g = grads.remove(t);
                if (g == null) continue;
                Node n = t.node;
                if (n == null) {
                    t.accumulateGrad(g);
                    continue;
                }
                Tensor[] gi = n.backward().apply(g);
                boolean passed = false;
                for (int k = 0; k < n.inputs().length; k++) {
                    Tensor in = n.inputs()[k], gk = gi[k];
                    if (gk == null || !in.requiresGrad()) { if (gk != null && gk != g) gk.close(); continue; }
                    if (gk == g) { if (passed) gk = Ops.copy(g); passed = true; }
                    else for (int j = 0; j < k; j++) if (gi[j] == gk) { gk = Ops.copy(gk); break; }
                    if (!gk.shape.equals(in.shape)) throw new IllegalStateException("backward of " + n.op() + " gave " + gk.shape + " for input " + in.shape);
                    Tensor prev = grads.get(in);
                    if (prev == null) grads.put(in, gk);
                    else { t.backend.binary(BinaryOp.ADD, prev.buffer(), prev.shape.strides(), gk.buffer(), gk.shape.strides(), prev.buffer(), prev.shape.dims()); gk.close(); }
                }
                if (!passed) g.close();
                for (AutoCloseable s : n.saved()) closeQuietly(s);
                t.node = null; // the tape runs once; its saved state is gone
            }
        }
    }

    private void accumulateGrad(Tensor g) {
        if (grad == null) {
            Scope.release(g);
            grad = g;
        } else {
            backend.binary(BinaryOp.ADD, grad.buffer(), shape.strides(), g.buffer(), shape.strides(), grad.buffer(), shape.dims());
            g.close();
        }
    }

    private static List<Tensor> topoOrder(Tensor root) {
        List<Tensor> order = new ArrayList<>();
        Map<Tensor, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        seen.put(root, true);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            Tensor t = (Tensor) top[0];
            int next = (Integer) top[1];
            Tensor[] ins = t.node == null ? new Tensor[0] : t.node.inputs();
            if (next < ins.length) {
                top[1] = next + 1;
                Tensor in = ins[next];
                if (in != null && in.requiresGrad() && seen.put(in, true) == null) stack.push(new Object[] {in, 0});
            } else {
                stack.pop();
                order.add(t);
            }
        }
        return order; // inputs before outputs
    }

    private static void closeQuietly(AutoCloseable c) {
        try { c.close(); } catch (Exception e) { throw new IllegalStateException(e); }
    }

    /** Records the op on the tape when grad is enabled and some input wants a gradient; else frees {@code saved}. */
    Tensor record(String op, Backward backward, Tensor[] inputs, AutoCloseable... saved) {
        boolean need = false;
        if (NoGrad.gradEnabled()) for (Tensor in : inputs) need |= in != null && in.requiresGrad();
        if (need) {
            for (Tensor in : inputs) if (in != null) in.readByTape = true;
            for (AutoCloseable s : saved) if (s instanceof Tensor st) Scope.release(st);
            node = new Node(op, inputs, backward, saved);
        } else {
            for (AutoCloseable s : saved) closeQuietly(s);
        }
        return this;
    }

    // ------------------------------------------------------------ shortcuts (see Ops)

    public Tensor add(Tensor o) { return Ops.add(this, o); }
    public Tensor sub(Tensor o) { return Ops.sub(this, o); }
    public Tensor mul(Tensor o) { return Ops.mul(this, o); }
    public Tensor div(Tensor o) { return Ops.div(this, o); }
    public Tensor mul(float s) { return Ops.affine(this, s, 0f); }
    public Tensor add(float s) { return Ops.affine(this, 1f, s); }
    public Tensor matmul(Tensor o) { return Ops.matmul(this, o); }
    public Tensor reshape(int... dims) { return Ops.reshape(this, dims); }
    public Tensor permute(int... axes) { return Ops.permute(this, axes); }
    public Tensor transpose(int a, int b) { return Ops.transpose(this, a, b); }
    public Tensor sum() { return Ops.sum(this); }
    public Tensor mean() { return Ops.mean(this); }

    @Override
    public String toString() {
        return "Tensor" + shape + (closed ? " (closed)" : "") + (node != null ? " <" + node.op() + ">" : "");
    }

    static Tensor requireSameBackend(Tensor a, Tensor b) {
        if (a.backend != b.backend) throw new IllegalArgumentException("tensors on different backends: " + a.backend.name() + " and " + b.backend.name());
        return Objects.requireNonNull(a);
    }
}
