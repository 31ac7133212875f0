package dev.sisma.engine.nn;

import dev.sisma.engine.Tensor;

/**
 * A trainable tensor of a {@link Module}: a leaf with {@code requiresGrad}, owned by the module
 * (never by a scope), replaceable when a state dict is loaded. Optimizers update
 * {@link #value()}'s buffer in place.
 */
public final class Parameter implements AutoCloseable {
    private Tensor value;
    private boolean weightDecay = true;

    public Parameter(Tensor value) {
        set(value);
    }

    /** The current value (a leaf tensor with requiresGrad = true unless frozen). */
    public Tensor value() { return value; }

    /** Its accumulated gradient, or null. */
    public Tensor grad() { return value.grad(); }

    /** Replaces the value (closing the old one); the new tensor becomes owned by this parameter. */
    public void set(Tensor t) {
        if (value != null && value != t) {
            if (!value.shape().equals(t.shape()))
                throw new IllegalArgumentException("parameter of shape " + value.shape() + " cannot take " + t.shape());
            boolean rg = value.requiresGrad();
            value.close();
            t.requiresGrad(rg);
        } else {
            t.requiresGrad(true);
        }
        value = t.detachFromScope();
    }

    /** Freezes (no gradient) or unfreezes. */
    public Parameter trainable(boolean on) { value.requiresGrad(on); return this; }

    public boolean trainable() { return value.requiresGrad(); }

    /** Whether AdamW applies weight decay (false for A_log, D, dt bias, norms as the spec says). */
    public boolean weightDecay() { return weightDecay; }

    public Parameter weightDecay(boolean on) { weightDecay = on; return this; }

    @Override
    public void close() { value.close(); }
}
