package dev.sisma.train.optim;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * AdamW over a model's named parameters, in two groups (decayed, not decayed; see
 * {@link WeightDecayRule}), with global-norm gradient clipping and linear warm-up, computed with
 * the backend's fused {@link Backend#adamw} primitive.
 *
 * <p>The moment buffers and the scratch space for the gradient norm are allocated once here, so
 * {@link #step()} allocates nothing on the device and downloads one float. A parameter without a
 * gradient in a step is skipped (no moment update, no decay), as PyTorch does; so each parameter
 * keeps its own step count for the bias correction.
 *
 * <p>Not thread-safe; one optimizer per training loop.
 */
public final class AdamW implements AutoCloseable {
    /** One parameter's state. */
    private static final class Slot {
        final String name;
        final Parameter param;
        final int count;
        final boolean decay;
        final DeviceBuffer m;
        final DeviceBuffer v;
        long step;

        Slot(String name, Parameter param, boolean decay, Backend backend) {
            this.name = name;
            this.param = param;
            this.count = Math.toIntExact(param.value().size());
            this.decay = decay;
            this.m = backend.allocate(count);
            this.v = backend.allocate(count);
        }
    }

    /** What a step did. */
    public record StepResult(long step, double lr, double gradNorm, boolean clipped) {}

    private final Backend backend;
    private final AdamWSettings settings;
    private final List<Slot> slots = new ArrayList<>();
    private final Map<String, Slot> byName = new LinkedHashMap<>();
    // gradient-norm scratch: squares of the largest gradient, one partial sum per parameter, the total
    private final DeviceBuffer squares;
    private final DeviceBuffer partial;
    private final DeviceBuffer partials;
    private final DeviceBuffer total;
    private final float[] totalHost = new float[1];
    private final long[] one = {1};
    private long step;
    private boolean closed;

    /**
     * @param params the model's parameters by state-dict name, in a fixed order (the optimizer's
     *               order and the checkpoint's); frozen ones ({@code !trainable()}) are left out
     * @param rule   which parameters are decayed
     */
    public AdamW(Map<String, Parameter> params, AdamWSettings settings, WeightDecayRule rule) {
        this.settings = Objects.requireNonNull(settings, "settings");
        if (params.isEmpty()) {
            throw new IllegalArgumentException("no parameters to optimise");
        }
        Backend be = null;
        int max = 1;
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            Parameter p = e.getValue();
            if (!p.trainable()) {
                continue;
            }
            if (be == null) {
                be = p.value().backend();
            } else if (p.value().backend() != be) {
                throw new IllegalArgumentException("parameter " + e.getKey() + " is on backend "
                        + p.value().backend().name() + ", the others on " + be.name());
            }
            Slot s = new Slot(e.getKey(), p, rule.test(e.getKey(), p), be);
            slots.add(s);
            byName.put(s.name, s);
            max = Math.max(max, s.count);
        }
        if (be == null) {
            throw new IllegalArgumentException("every parameter is frozen; nothing to optimise");
        }
        this.backend = be;
        this.squares = be.allocate(max);
        this.partial = be.allocate(1);
        this.partials = be.allocate(slots.size());
        this.total = be.allocate(1);
    }

    public AdamWSettings settings() {
        return settings;
    }

    /** Optimizer steps taken so far (0 before the first). */
    public long stepCount() {
        return step;
    }

    /** The learning rate the next {@link #step()} will use. */
    public double nextLr() {
        return settings.lrAt(step + 1);
    }

    /** Names of the optimised parameters, in order. */
    public List<String> names() {
        return Collections.unmodifiableList(new ArrayList<>(byName.keySet()));
    }

    /** Whether the named parameter is weight-decayed. */
    public boolean decays(String name) {
        return slot(name).decay;
    }

    /**
     * The global L2 norm of all current gradients (parameters without a gradient count as 0).
     * One download.
     */
    public double gradNorm() {
        Backend be = backend;
        for (int i = 0; i < slots.size(); i++) {
            Slot s = slots.get(i);
            Tensor g = s.param.grad();
            if (g == null) {
                be.fill(partials, i, 1, 0f);
                continue;
            }
            be.unary(UnaryOp.SQUARE, g.buffer(), squares, s.count);
            be.reduce(ReduceOp.SUM, squares, partial, 1, s.count, 1);
            be.copy(partial, 0, one, partials, i, one, new int[] {1});
        }
        be.reduce(ReduceOp.SUM, partials, total, 1, slots.size(), 1);
        be.download(total, 0, totalHost, 0, 1);
        return Math.sqrt(totalHost[0]);
    }

    /**
     * One step: measures the global gradient norm, scales the gradients down to
     * {@code maxGradNorm} when above it, then applies AdamW with the warm-up learning rate.
     * Gradients are left in place (scaled); call {@link #zeroGrad()} before the next backward.
     * A non-finite gradient norm skips the update (the step still counts) so one bad batch
     * cannot destroy the weights.
     */
    public StepResult step() {
        if (closed) {
            throw new IllegalStateException("optimizer is closed");
        }
        double norm = gradNorm();
        step++;
        double lr = settings.lrAt(step);
        if (!Double.isFinite(norm)) {
            return new StepResult(step, lr, norm, false);
        }
        boolean clip = settings.maxGradNorm() > 0 && norm > settings.maxGradNorm();
        float scale = clip ? (float) (settings.maxGradNorm() / (norm + 1e-6)) : 1f;
        for (Slot s : slots) {
            Tensor g = s.param.grad();
            if (g == null) {
                continue;
            }
            if (clip) {
                backend.affine(g.buffer(), g.buffer(), s.count, scale, 0f);
            }
            s.step++;
            backend.adamw(s.param.value().buffer(), g.buffer(), s.m, s.v, s.count, (float) lr,
                    (float) settings.beta1(), (float) settings.beta2(), (float) settings.eps(),
                    s.decay ? (float) settings.weightDecay() : 0f, s.step);
        }
        return new StepResult(step, lr, norm, clip);
    }

    /** Frees every parameter's gradient. */
    public void zeroGrad() {
        for (Slot s : slots) {
            s.param.value().zeroGrad();
        }
    }

    // ------------------------------------------------------------ state (checkpoints)

    /** The first-moment buffer of {@code name} (owned by the optimizer). */
    public DeviceBuffer m(String name) {
        return slot(name).m;
    }

    /** The second-moment buffer of {@code name} (owned by the optimizer). */
    public DeviceBuffer v(String name) {
        return slot(name).v;
    }

    /** How many updates the named parameter has had (its bias-correction step). */
    public long paramStep(String name) {
        return slot(name).step;
    }

    /** Restores the state of one parameter from a checkpoint. */
    public void restore(String name, float[] m, float[] v, long paramStep) {
        Slot s = slot(name);
        if (m.length != s.count || v.length != s.count) {
            throw new IllegalArgumentException("optimizer state of " + name + " has " + m.length + "/" + v.length
                    + " values, the parameter " + s.count);
        }
        // upload makes a buffer; copy into ours so the buffers keep their identity
        try (DeviceBuffer hm = backend.upload(m); DeviceBuffer hv = backend.upload(v)) {
            backend.copy(hm, 0, one, s.m, 0, one, new int[] {s.count});
            backend.copy(hv, 0, one, s.v, 0, one, new int[] {s.count});
        }
        s.step = paramStep;
    }

    /** Restores the global step counter (the learning-rate schedule's position). */
    public void restoreStep(long step) {
        if (step < 0) {
            throw new IllegalArgumentException("negative step " + step);
        }
        this.step = step;
    }

    private Slot slot(String name) {
        Slot s = byName.get(name);
        if (s == null) {
            throw new IllegalArgumentException("no optimised parameter called " + name);
        }
        return s;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Slot s : slots) {
            s.m.close();
            s.v.close();
        }
        squares.close();
        partial.close();
        partials.close();
        total.close();
    }
}
