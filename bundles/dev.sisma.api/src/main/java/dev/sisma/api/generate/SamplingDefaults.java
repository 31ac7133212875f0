package dev.sisma.api.generate;

/**
 * The sampling settings a model uses where a {@link GenerationRequest} leaves them open (0 steps,
 * no sampler, NaN guidance): what a user interface shows as "the model's defaults".
 *
 * @param sampler  sampler name, e.g. "heun"
 * @param steps    sampler steps, at least 1
 * @param cfgScale classifier-free guidance scale, 1 means no guidance
 */
public record SamplingDefaults(String sampler, int steps, double cfgScale) {
    public SamplingDefaults {
        if (sampler == null || sampler.isBlank()) {
            throw new IllegalArgumentException("a sampler name is required");
        }
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        if (!(cfgScale >= 0) || Double.isInfinite(cfgScale)) {
            throw new IllegalArgumentException("cfgScale must be a finite number >= 0, got " + cfgScale);
        }
    }
}
