package dev.sisma.autoencoder;

import org.osgi.annotation.versioning.ProviderType;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/**
 * A frozen image autoencoder with its weights on one backend: images of {@code 3 x H x W} to
 * latents of {@link #latentChannels()} {@code x H/f x W/f} ({@code f} = {@link #downscale()}) and
 * back. Images are RGB in [-1, 1] (the project's image convention, whatever range the network
 * itself was trained on); latents are in the diffusion model's space, {@code (raw - shift()) *
 * scaling()}, so a latent model sees values of about unit variance.
 *
 * <p>Inference only: no gradient flows through {@link #encode} or {@link #decode}, and each frees
 * its intermediate activations as it goes. Not thread-safe: one caller at a time. Closing frees the
 * weights.
 */
@ProviderType
public interface Autoencoder extends AutoCloseable {
    /** What this is, e.g. {@code "taef2"} or {@code "sd-vae (diffusion_pytorch_model.safetensors)"}. */
    String name();

    /** Channels of a latent (32 for TAEF2, 4 for the SD-VAE). */
    int latentChannels();

    /** Image pixels per latent pixel along each side (8 for both). */
    int downscale();

    /** Multiplies the network's raw latent (after {@link #shift()}) into the model's space (SD-VAE: 0.18215). */
    float scaling();

    /** Subtracted from the network's raw latent before {@link #scaling()} (0 for both shipped kinds). */
    float shift();

    /** The backend the weights live on; inputs must be on it too. */
    Backend backend();

    /**
     * Encodes images [N, 3, H, W] in [-1, 1] (H and W multiples of {@link #downscale()}) into model-space
     * latents [N, {@link #latentChannels()}, H/f, W/f]. Deterministic (a variational encoder gives its
     * posterior mean).
     */
    Tensor encode(Tensor images);

    /** Decodes model-space latents [N, C, h, w] into images [N, 3, h f, w f] of about [-1, 1] (not clamped). */
    Tensor decode(Tensor latents);

    /** Frees the weights. */
    @Override
    void close();
}
