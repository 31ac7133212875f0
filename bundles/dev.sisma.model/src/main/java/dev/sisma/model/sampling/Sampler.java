package dev.sisma.model.sampling;

import org.osgi.annotation.versioning.ConsumerType;

import dev.sisma.api.generate.Progress;
import dev.sisma.engine.Tensor;

/**
 * An ODE solver for flow-matching sampling, registered as an OSGi service so a third-party bundle
 * can add one; the CLI and the editor offer samplers by {@link #name()}. Outside OSGi,
 * {@link Samplers} lists the built-in ones.
 */
@ConsumerType
public interface Sampler {
    /** The name users pick it by ("euler", "heun"). Unique. */
    String name();

    /** One line for listings. */
    String description();

    /** Network evaluations {@link #sample} makes for {@code steps} steps (for ETAs and fair comparisons). */
    int evaluations(int steps);

    /**
     * Integrates dx/dt = v(x, t) from t = 0 to t = 1 in {@code steps} steps on the uniform grid
     * t_i = i / steps, starting from x0 [B, ...] (not modified, not closed). Runs without a tape.
     * Reports each step to {@code progress} and stops with a
     * {@link java.util.concurrent.CancellationException} when it asks to cancel.
     *
     * @return x at t = 1, a new tensor owned by the caller
     */
    Tensor sample(VelocityField v, Tensor x0, int steps, double cfgScale, Progress progress);
}
