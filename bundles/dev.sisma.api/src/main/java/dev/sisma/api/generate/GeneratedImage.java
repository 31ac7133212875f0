package dev.sisma.api.generate;

/**
 * One generated image.
 *
 * @param seed   the seed that made it
 * @param width  in pixels
 * @param height in pixels
 * @param rgb    packed 0xRRGGBB pixels, row-major
 */
public record GeneratedImage(long seed, int width, int height, int[] rgb) {
}
