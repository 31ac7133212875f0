package dev.sisma.model;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Optional;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/**
 * Where a model's samples live and how images get there and back: pixel space (the image itself)
 * or the latents of the frozen autoencoder its config names. The model's latent is
 * {@code (autoencoder latent - latent_shift) * latent_scale}; {@link #decode} undoes that and runs
 * the decoder. Training, the generator and adherence all go through here, so an image is encoded
 * and a sample decoded the same way everywhere.
 */
public final class ImageSpace implements AutoCloseable {
    private final SismaConfig config;
    private final Autoencoder autoencoder;   // null in pixel space
    private final boolean owned;
    private String fingerprint;              // lazily, see cacheKey

    private ImageSpace(SismaConfig config, Autoencoder autoencoder, boolean owned) {
        this.config = config;
        this.autoencoder = autoencoder;
        this.owned = owned;
    }

    /** Pixel space: images are the model's samples. */
    public static ImageSpace pixel(SismaConfig config) {
        if (config.space() != SismaConfig.Space.PIXEL) {
            throw new IllegalArgumentException("config " + config.name() + " is a latent-space config");
        }
        return new ImageSpace(config, null, false);
    }

    /**
     * The latent space of {@code autoencoder} for {@code config} (which must fit it: channels and
     * sizes, see {@link #check}); the caller keeps ownership of the autoencoder.
     */
    public static ImageSpace latent(SismaConfig config, Autoencoder autoencoder) {
        check(config, autoencoder);
        return new ImageSpace(config, autoencoder, false);
    }

    /**
     * The space of {@code config}: pixel space, or its autoencoder opened from {@code autoencoders}
     * on {@code backend} ({@code weights}, a file resolved against {@code workingDirectory}, replaces
     * the config's name: the SD-VAE ships no weights). Closing the result closes the autoencoder.
     *
     * @throws InputException when the autoencoder cannot be opened or does not fit the config
     */
    public static ImageSpace open(SismaConfig config, Autoencoders autoencoders, String weights, Path workingDirectory,
                                  Backend backend) {
        if (config.space() == SismaConfig.Space.PIXEL) {
            return pixel(config);
        }
        Autoencoder ae = openAutoencoder(config, autoencoders, weights, workingDirectory, backend);
        try {
            check(config, ae);
        } catch (RuntimeException e) {
            ae.close();
            throw e;
        }
        return new ImageSpace(config, ae, true);
    }

    /** The autoencoder a latent config names (or {@code weights}, which must be of that kind), not yet checked against the config. */
    public static Autoencoder openAutoencoder(SismaConfig config, Autoencoders autoencoders, String weights,
                                              Path workingDirectory, Backend backend) {
        if (autoencoders == null) {
            throw new InputException("config " + config.name() + " works in the latents of autoencoder " + config.autoencoder()
                    + ", and no autoencoder service is running (is the dev.sisma.autoencoder bundle started?)");
        }
        Autoencoder ae;
        try {
            ae = autoencoders.open(weights != null ? weights : config.autoencoder(), workingDirectory, backend);
        } catch (InputException e) {
            if (weights != null) {
                throw e;
            }
            throw new InputException("config " + config.name() + " works in the latents of " + config.autoencoder() + ": "
                    + e.getMessage() + " (train: --vae FILE)", e);
        }
        String kind = ae.name().split(" ", 2)[0];
        if (!kind.equals(config.autoencoder())) {
            ae.close();
            throw new InputException(weights + ": holds a " + kind + " autoencoder, but config " + config.name()
                    + " works in the latents of " + config.autoencoder());
        }
        return ae;
    }

    /**
     * {@code config} with {@code in_channels}/{@code out_channels} and {@code input_size} taken from
     * the autoencoder (its latent channels; image size / downscale): a latent config follows its
     * autoencoder. Pixel configs come back unchanged.
     */
    public static SismaConfig fitTo(SismaConfig config, Autoencoder ae) {
        if (config.space() == SismaConfig.Space.PIXEL || ae == null) {
            return config;
        }
        int c = ae.latentChannels();
        int in = config.imageSize() / ae.downscale();
        if (c == config.inChannels() && c == config.outChannels() && in == config.inputSize()) {
            return config;
        }
        if (config.imageSize() % ae.downscale() != 0) {
            throw new InputException("config " + config.name() + ": field image_size: " + config.imageSize()
                    + " is not a multiple of the autoencoder's downscale " + ae.downscale());
        }
        return config.with("in_channels", c, "out_channels", c, "input_size", in);
    }

    /** Throws an {@link InputException} naming the config when it does not fit the autoencoder. */
    public static void check(SismaConfig config, Autoencoder ae) {
        if (config.space() != SismaConfig.Space.LATENT) {
            throw new InputException("config " + config.name() + " is a pixel-space config; it takes no autoencoder");
        }
        if (config.inChannels() != ae.latentChannels() || config.outChannels() != ae.latentChannels()) {
            throw new InputException("config " + config.name() + ": in_channels/out_channels " + config.inChannels() + "/"
                    + config.outChannels() + " do not match the " + ae.latentChannels() + " latent channels of " + ae.name());
        }
        if (config.inputSize() * ae.downscale() != config.imageSize()) {
            throw new InputException("config " + config.name() + ": input_size " + config.inputSize() + " x downscale "
                    + ae.downscale() + " of " + ae.name() + " is not image_size " + config.imageSize());
        }
    }

    public SismaConfig config() {
        return config;
    }

    /** True for a latent space. */
    public boolean isLatent() {
        return autoencoder != null;
    }

    /** The autoencoder of a latent space. */
    public Optional<Autoencoder> autoencoder() {
        return Optional.ofNullable(autoencoder);
    }

    /** Images [N, 3, S, S] in [-1, 1] at the config's image size -> the model's samples [N, C, s, s]. */
    public Tensor encode(Tensor images) {
        return toModel(encodeRaw(images));
    }

    /**
     * Images -> the autoencoder's latents, before the config's shift and scale ({@link #toModel}):
     * what a latent cache stores, so a change of scale needs no re-encoding. Pixel space: the images.
     */
    public Tensor encodeRaw(Tensor images) {
        if (autoencoder == null) {
            return images;
        }
        try (NoGrad ng = NoGrad.enter()) {
            return autoencoder.encode(images);
        }
    }

    /** The autoencoder's latents -> the model's: {@code (z - latent_shift) * latent_scale}. */
    public Tensor toModel(Tensor raw) {
        if (autoencoder == null || (config.latentScale() == 1.0 && config.latentShift() == 0.0)) {
            return raw;
        }
        float s = (float) config.latentScale();
        return dev.sisma.engine.Ops.affine(raw, s, (float) (-config.latentShift() * config.latentScale()));
    }

    /** The model's samples [N, C, s, s] -> images [N, 3, S, S] of about [-1, 1] (not clamped). */
    public Tensor decode(Tensor samples) {
        if (autoencoder == null) {
            return samples;
        }
        try (NoGrad ng = NoGrad.enter()) {
            Tensor z = samples;
            if (config.latentScale() != 1.0 || config.latentShift() != 0.0) {
                z = dev.sisma.engine.Ops.affine(samples, (float) (1 / config.latentScale()), (float) config.latentShift());
            }
            return autoencoder.decode(z);
        }
    }

    /** Side of the images this space takes and gives. */
    public int imageSize() {
        return config.imageSize();
    }

    /**
     * What {@link #encodeRaw} depends on, as text: the autoencoder's name and kind, its latent shape
     * and a fingerprint of its weights (the SHA-256 of the latent of a fixed probe image, so other
     * weights or another encoder give another key), and the image size. Latent caches are keyed by it.
     */
    public synchronized String cacheKey() {
        if (autoencoder == null) {
            return "pixel size=" + config.imageSize();
        }
        if (fingerprint == null) {
            fingerprint = fingerprint(autoencoder);
        }
        return "autoencoder=" + autoencoder.name() + " channels=" + autoencoder.latentChannels() + " downscale="
                + autoencoder.downscale() + " weights=" + fingerprint + " size=" + config.imageSize();
    }

    /** SHA-256 (hex, 16 bytes) of the latent of a fixed 3 x 4f x 4f probe image. */
    static String fingerprint(Autoencoder ae) {
        int side = 4 * ae.downscale();
        float[] probe = new float[3 * side * side];
        for (int i = 0; i < probe.length; i++) {
            probe[i] = (float) Math.sin(i * 0.37 + (i % 7) * 1.3) * 0.9f;
        }
        float[] z;
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            z = ae.encode(Tensor.of(ae.backend(), probe, 1, 3, side, side)).toArray();
        }
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            ByteBuffer b = ByteBuffer.allocate(4 * z.length);
            for (float v : z) {
                b.putFloat(v);
            }
            md.update(ae.name().getBytes(StandardCharsets.UTF_8));
            md.update(b.array());
            byte[] h = md.digest();
            return HexFormat.of().formatHex(h, 0, 16);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    @Override
    public void close() {
        if (owned && autoencoder != null) {
            autoencoder.close();
        }
    }
}
