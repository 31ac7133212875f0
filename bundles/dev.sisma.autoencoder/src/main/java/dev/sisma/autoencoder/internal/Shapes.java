package dev.sisma.autoencoder.internal;

import dev.sisma.engine.Tensor;

/** Argument checks shared by the autoencoders (programming errors: IllegalArgumentException, naming the shapes). */
final class Shapes {
    private Shapes() {
    }

    static void checkImages(Tensor images, int downscale) {
        if (images.rank() != 4 || images.dim(1) != 3 || images.dim(2) % downscale != 0 || images.dim(3) % downscale != 0) {
            throw new IllegalArgumentException("encode: images " + images.shape() + " must be [N, 3, H, W] with H and W multiples of "
                    + downscale);
        }
    }

    static void checkLatents(Tensor latents, int channels) {
        if (latents.rank() != 4 || latents.dim(1) != channels) {
            throw new IllegalArgumentException("decode: latents " + latents.shape() + " must be [N, " + channels + ", h, w]");
        }
    }
}
