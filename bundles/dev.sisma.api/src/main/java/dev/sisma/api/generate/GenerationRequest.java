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
 * @param vae        the autoencoder weights a latent model decodes with (e.g. a downloaded
 *                   {@code sd-vae-ft-mse} safetensors file), or null for the one its config names
 *                   when that one ships its weights (TAEF2)
 * @param weights    the format the model keeps its Linear weights in, or null for the generator's default
 *                   (the system property {@code sisma.weights}, else {@link WeightFormat#F32}); a model
 *                   loaded in another format is loaded again
 */
public record GenerationRequest(Mask mask, int samples, long seed, int steps, String sampler, double cfgScale,
        Path checkpoint, String backend, Path vae, WeightFormat weights) {
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

    /** A request with the generator's default weight format. */
    public GenerationRequest(Mask mask, int samples, long seed, int steps, String sampler, double cfgScale,
            Path checkpoint, String backend, Path vae) {
        this(mask, samples, seed, steps, sampler, cfgScale, checkpoint, backend, vae, null);
    }

    /** A request that decodes with the autoencoder the model's config names. */
    public GenerationRequest(Mask mask, int samples, long seed, int steps, String sampler, double cfgScale,
            Path checkpoint, String backend) {
        this(mask, samples, seed, steps, sampler, cfgScale, checkpoint, backend, null, null);
    }

    /** This request with the model's defaults filled in where it left them open. */
    public GenerationRequest withDefaults(SamplingDefaults d) {
        return withDefaults(d.sampler(), d.steps(), d.cfgScale());
    }

    /** This request with the model's defaults filled in where it left them open. */
    public GenerationRequest withDefaults(String defaultSampler, int defaultSteps, double defaultCfgScale) {
        return new GenerationRequest(mask, samples, seed, steps == 0 ? defaultSteps : steps,
                sampler == null ? defaultSampler : sampler, Double.isNaN(cfgScale) ? defaultCfgScale : cfgScale,
                checkpoint, backend, vae, weights);
    }
}
