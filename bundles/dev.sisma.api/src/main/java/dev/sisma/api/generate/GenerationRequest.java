package dev.sisma.api.generate;

import java.nio.file.Path;

import dev.sisma.api.mask.Mask;

/**
 * What to generate.
 *
 * @param mask       the layout to follow, any size (resized with nearest neighbour to the model's size)
 * @param samples    how many images (seeds {@code seed}, {@code seed + 1}, ...)
 * @param seed       first seed
 * @param steps      number of sampler steps
 * @param sampler    sampler name, e.g. "euler" or "heun"
 * @param cfgScale   classifier-free guidance scale; 1 means no guidance
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
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
    }
}
