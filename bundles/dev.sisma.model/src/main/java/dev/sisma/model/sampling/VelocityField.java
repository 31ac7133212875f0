package dev.sisma.model.sampling;

import dev.sisma.engine.Tensor;

/**
 * The ODE a sampler integrates, dx/dt = v(x, t), from t = 0 (noise) to t = 1 (data).
 * {@link dev.sisma.model.Sisma#velocityField} makes one for a mask.
 */
@FunctionalInterface
public interface VelocityField {
    /**
     * v for the whole batch x [B, ...] at time t (the same for every sample), with classifier-free
     * guidance {@code cfgScale} (1 = none). Returns a new tensor shaped like x.
     */
    Tensor velocity(Tensor x, float t, double cfgScale);
}
