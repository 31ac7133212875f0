package dev.sisma.train.optim;

/**
 * AdamW hyper-parameters (PyTorch's names and defaults, except the learning rate, which is the
 * spec's 1e-4, and weight decay, which is the paper's 0).
 *
 * @param lr           peak learning rate, reached after {@code warmupSteps}
 * @param beta1        first-moment decay
 * @param beta2        second-moment decay
 * @param eps          denominator epsilon
 * @param weightDecay  decoupled weight decay for the parameters the {@link WeightDecayRule} selects
 * @param warmupSteps  linear warm-up from 0 to {@code lr} over this many steps (0: none)
 * @param maxGradNorm  clip the global gradient norm to this (0 or less: no clipping)
 */
public record AdamWSettings(double lr, double beta1, double beta2, double eps, double weightDecay,
                            long warmupSteps, double maxGradNorm) {
    public AdamWSettings {
        check(lr > 0 && Double.isFinite(lr), "lr must be a positive number, got " + lr);
        check(beta1 >= 0 && beta1 < 1, "beta1 must be in [0, 1), got " + beta1);
        check(beta2 >= 0 && beta2 < 1, "beta2 must be in [0, 1), got " + beta2);
        check(eps > 0, "eps must be positive, got " + eps);
        check(weightDecay >= 0 && Double.isFinite(weightDecay), "weight decay must be >= 0, got " + weightDecay);
        check(warmupSteps >= 0, "warmup steps must be >= 0, got " + warmupSteps);
        check(!Double.isNaN(maxGradNorm), "max grad norm is NaN");
    }

    /** lr 1e-4, betas (0.9, 0.999), eps 1e-8, no weight decay, no warm-up, clip at 1.0. */
    public static AdamWSettings defaults() {
        return new AdamWSettings(1e-4, 0.9, 0.999, 1e-8, 0.0, 0, 1.0);
    }

    public AdamWSettings withLr(double v) {
        return new AdamWSettings(v, beta1, beta2, eps, weightDecay, warmupSteps, maxGradNorm);
    }

    public AdamWSettings withWeightDecay(double v) {
        return new AdamWSettings(lr, beta1, beta2, eps, v, warmupSteps, maxGradNorm);
    }

    public AdamWSettings withWarmupSteps(long v) {
        return new AdamWSettings(lr, beta1, beta2, eps, weightDecay, v, maxGradNorm);
    }

    public AdamWSettings withMaxGradNorm(double v) {
        return new AdamWSettings(lr, beta1, beta2, eps, weightDecay, warmupSteps, v);
    }

    /** The learning rate of optimizer step {@code step} (counting from 1): linear warm-up, then constant. */
    public double lrAt(long step) {
        if (warmupSteps <= 0 || step >= warmupSteps) {
            return lr;
        }
        return lr * Math.max(step, 0) / warmupSteps;
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalArgumentException(message);
        }
    }
}
