package dev.sisma.api.generate;

import java.nio.file.Path;

import dev.sisma.api.mask.Mask;

/**
 * What to generate.
 *
 * @param mask       the layout to follow, any size (resized with nearest neighbour to the model's size)
 * @param samples    how many images (seeds {@code seed}, {@code seed + 1}, ...)
 * @param seed       first seed
 * @param steps      number of sampler steps; 0 for the model's default
 * @param sampler    sampler name, e.g. "euler" or "heun"; null for the model's default
 * @param cfgScale   classifier-free guidance scale, 1 means no guidance; NaN for the model's default
 * @param checkpoint model weights, or null for the bundled demo model
 * @param backend    compute backend name, or null for the one in use
 */
public record GenerationRequest(Mask mask, int samples, long seed, int steps, String sampler, double cfgScale,
        Path checkpoint, String backend) {
    public GenerationRequest {
        if (mask == null) {
            throw new IllegalArgumentException("a mask is required");
        }
        if (samples < 1) {
            throw new IllegalArgumentException("samples must be at least 1, got " + samples);
        }
        if (steps < 0) {
            throw new IllegalArgumentException("steps must be at least 1 (or 0 for the model's default), got " + steps);
        }
    }

    /** This request with the model's defaults filled in where it left them open. */
    public GenerationRequest withDefaults(SamplingDefaults d) {
        return withDefaults(d.sampler(), d.steps(), d.cfgScale());
    }

    /** This request with the model's defaults filled in where it left them open. */
    public GenerationRequest withDefaults(String defaultSampler, int defaultSteps, double defaultCfgScale) {
        return new GenerationRequest(mask, samples, seed, steps == 0 ? defaultSteps : steps,
                sampler == null ? defaultSampler : sampler, Double.isNaN(cfgScale) ? defaultCfgScale : cfgScale,
                checkpoint, backend);
    }
}
