package dev.sisma.train.optim;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * Exponential moving average of a model's weights: after each optimizer step,
 * {@code ema = d * ema + (1 - d) * w}, computed in place as {@code ema = d * (ema - w) + w} with
 * three backend primitives (no allocation).
 *
 * <p>The averages live in the parameters of a second model of the same shape (the "shadow"), so
 * that model can sample with the EMA weights directly; it starts as a copy of the source.
 *
 * <p>With {@code warmup} the decay of update {@code k} (counting from 1) is
 * {@code min(decay, (1 + k) / (10 + k))}: the average forgets the random initialisation within a
 * few hundred steps, which matters for short runs (0.9999 alone would keep 90% of the initial
 * weights after 1000 steps); long runs reach {@code decay} soon anyway.
 */
public final class Ema {
    // Parameters, not buffers: loading a state dict may replace a parameter's tensor
    private record Pair(String name, Parameter src, Parameter dst, int[] shape) {
        DeviceBuffer source() { return src.value().buffer(); }
        DeviceBuffer shadow() { return dst.value().buffer(); }
    }

    private static final long[] UNIT = {1};

    private final Backend backend;
    private final double decay;
    private final boolean warmup;
    private final List<Pair> pairs = new ArrayList<>();
    private long updates;

    /**
     * @param source the trained parameters by name
     * @param shadow the EMA model's parameters by the same names and shapes (overwritten with a copy of source)
     */
    public Ema(Map<String, Parameter> source, Map<String, Parameter> shadow, double decay, boolean warmup) {
        if (!(decay >= 0 && decay <= 1)) {
            throw new IllegalArgumentException("EMA decay must be in [0, 1], got " + decay);
        }
        this.decay = decay;
        this.warmup = warmup;
        Backend be = null;
        for (Map.Entry<String, Parameter> e : source.entrySet()) {
            Parameter s = shadow.get(e.getKey());
            if (s == null) {
                throw new IllegalArgumentException("the EMA model has no parameter " + e.getKey());
            }
            if (!s.value().shape().equals(e.getValue().value().shape())) {
                throw new IllegalArgumentException("EMA parameter " + e.getKey() + " has shape " + s.value().shape()
                        + ", the model " + e.getValue().value().shape());
            }
            be = e.getValue().value().backend();
            pairs.add(new Pair(e.getKey(), e.getValue(), s,
                    new int[] {Math.toIntExact(s.value().size())}));
        }
        if (be == null) {
            throw new IllegalArgumentException("no parameters to average");
        }
        this.backend = be;
        copyFromSource();
    }

    /** Number of updates so far. */
    public long updates() {
        return updates;
    }

    public double decay() {
        return decay;
    }

    /** The decay the next update uses. */
    public double nextDecay() {
        long k = updates + 1;
        return warmup ? Math.min(decay, (1.0 + k) / (10.0 + k)) : decay;
    }

    /** One update from the current source weights. */
    public void update() {
        float d = (float) nextDecay();
        for (Pair p : pairs) {
            backend.binary(BinaryOp.SUB, p.shadow(), UNIT, p.source(), UNIT, p.shadow(), p.shape);
            backend.affine(p.shadow(), p.shadow(), p.shape[0], d, 0f);
            backend.binary(BinaryOp.ADD, p.shadow(), UNIT, p.source(), UNIT, p.shadow(), p.shape);
        }
        updates++;
    }

    /** Sets the averages to the current source weights. */
    public void copyFromSource() {
        for (Pair p : pairs) {
            backend.copy(p.source(), 0, UNIT, p.shadow(), 0, UNIT, p.shape);
        }
    }

    /** Restores the update counter from a checkpoint (the shadow weights are loaded with the EMA model). */
    public void restoreUpdates(long updates) {
        if (updates < 0) {
            throw new IllegalArgumentException("negative EMA update count " + updates);
        }
        this.updates = updates;
    }

    /** The EMA model's parameters by name (for checkpoints and sampling). */
    public Map<String, Parameter> shadows() {
        Map<String, Parameter> m = new LinkedHashMap<>();
        for (Pair p : pairs) {
            m.put(p.name, p.dst);
        }
        return m;
    }
}
