package dev.sisma.autoencoder.internal;

import java.util.List;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Conv2d;
import dev.sisma.engine.nn.GroupNorm;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;

/**
 * TAEF2, the tiny autoencoder of madebyollin/taesd for FLUX.2's latent space: 3 x H x W images in
 * 0..1 to {@code latent} x H/8 x W/8 and back, through 3x3 convolutions, ReLU and residual blocks
 * (see the bundled README for the layout). The encoder and decoder are two index-named stacks, as
 * the weight files name them. The width (64) and latent channels (32) come from the weights; the
 * GroupNorm branch of the three deepest blocks is there when the weights have it (TAESD's older
 * models have none).
 *
 * <p>As an {@link Autoencoder}: images in [-1, 1] are mapped to the network's 0..1 and back; the
 * raw latents are used as they are (scaling 1, shift 0): on real 256x256 faces they have mean
 * -0.02 and standard deviation 0.89.
 */
final class Taef2 implements Autoencoder {
    /** GroupNorm's default epsilon in PyTorch, which the branch uses. */
    static final float GN_EPS = 1e-5f;

    /** A TAEF2 shape: conv width, latent channels, whether the deepest blocks have the GroupNorm branch. */
    record Config(int width, int latent, boolean midGroupNorm) {
        static final Config TAEF2 = new Config(64, 32, true);

        /** Read from an encoder's weights (the first conv's output channels, the last conv's, a branch's presence). */
        static Config of(SafeTensorsFile encoder, String prefix) {
            String what = "a TAEF2 encoder's weights";
            int width = Math.toIntExact(Weights.shape(encoder, prefix + "0.weight", what)[0]);
            int latent = Math.toIntExact(Weights.shape(encoder, prefix + "14.weight", what)[0]);
            return new Config(width, latent, encoder.contains(prefix + "11.pool.0.weight"));
        }
    }

    private final String name;
    private final Config config;
    private final Backend backend;
    final Sequential encoder, decoder;

    Taef2(String name, Config config, Backend backend) {
        this.name = name;
        this.config = config;
        this.backend = backend;
        int n = config.width(), c = config.latent();
        encoder = new Sequential();
        conv(encoder, 3, n, 1, true);
        block(encoder, false);
        for (int stage = 0; stage < 3; stage++) {
            boolean deepest = stage == 2 && config.midGroupNorm();
            conv(encoder, n, n, 2, false);
            for (int i = 0; i < 3; i++) {
                block(encoder, deepest);
            }
        }
        conv(encoder, n, c, 1, true);

        decoder = new Sequential();
        // Soft clamp to about +-3: 3 tanh(x / 3).
        decoder.add(x -> Ops.tanh(x.mul(1f / 3f)).mul(3f));
        conv(decoder, c, n, 1, true);
        decoder.add(Ops::relu);
        for (int stage = 0; stage < 3; stage++) {
            for (int i = 0; i < 3; i++) {
                block(decoder, stage == 0 && config.midGroupNorm());
            }
            decoder.add(x -> Ops.upsampleNearest2d(x, 2));
            conv(decoder, n, n, 1, false);
        }
        block(decoder, false);
        conv(decoder, n, 3, 1, true);
    }

    /** TAEF2 with the weights of an encoder file and a decoder file (plain names; checked). */
    static Taef2 load(String name, SafeTensorsFile encoderFile, SafeTensorsFile decoderFile, Backend backend) {
        return load(name, encoderFile, "", decoderFile, "", backend);
    }

    /** TAEF2 from one file holding both halves under {@code encoderPrefix} and {@code decoderPrefix}. */
    static Taef2 load(String name, SafeTensorsFile file, String encoderPrefix, String decoderPrefix, Backend backend) {
        return load(name, file, encoderPrefix, file, decoderPrefix, backend);
    }

    private static Taef2 load(String name, SafeTensorsFile encoderFile, String encoderPrefix, SafeTensorsFile decoderFile,
                              String decoderPrefix, Backend backend) {
        Taef2 t = new Taef2(name, Config.of(encoderFile, encoderPrefix), backend);
        try {
            Weights.load(t.encoder, encoderFile, encoderPrefix, List::of, "a TAEF2 encoder " + t.config);
            Weights.load(t.decoder, decoderFile, decoderPrefix, List::of, "a TAEF2 decoder " + t.config);
            t.freeze();
            return t;
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
    }

    void freeze() {
        for (Module m : new Module[] {encoder, decoder}) {
            for (Parameter p : m.parameters()) {
                p.trainable(false);
            }
        }
    }

    Config config() {
        return config;
    }

    private void conv(Sequential s, int in, int out, int stride, boolean bias) {
        Conv2d c = new Conv2d(backend, in, out, 3, stride, 1, bias);
        s.add(c, c::forward);
    }

    private void block(Sequential s, boolean groupNormBranch) {
        Block b = new Block(backend, config.width(), groupNormBranch);
        s.add(b, b::forward);
    }

    /**
     * conv-ReLU-conv-ReLU-conv plus the input, then ReLU; with the branch, the input first gets
     * {@code 1x1 conv (4n) -> GroupNorm(4) -> ReLU -> 1x1 conv (n)} added: GroupNorm's statistics
     * over the whole picture give the block a global view.
     */
    static final class Block extends Module {
        private final Sequential conv;
        private final Sequential pool;

        Block(Backend be, int n, boolean groupNormBranch) {
            conv = module("conv", new Sequential());
            for (int i = 0; i < 3; i++) {
                if (i > 0) {
                    conv.add(Ops::relu);
                }
                Conv2d c = new Conv2d(be, n, n, 3, 1, 1, true);
                conv.add(c, c::forward);
            }
            if (groupNormBranch) {
                pool = module("pool", new Sequential());
                Conv2d up = new Conv2d(be, n, 4 * n, 1, 1, 0, false);
                pool.add(up, up::forward);
                GroupNorm gn = new GroupNorm(be, 4, 4 * n, GN_EPS);
                pool.add(gn, gn::forward);
                pool.add(Ops::relu);
                Conv2d down = new Conv2d(be, 4 * n, n, 1, 1, 0, false);
                pool.add(down, down::forward);
            } else {
                pool = null;
            }
        }

        Tensor forward(Tensor x) {
            Tensor in = pool == null ? x : Ops.add(x, pool.forward(x));
            return Ops.relu(Ops.add(conv.forward(in), in));
        }
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public int latentChannels() {
        return config.latent();
    }

    @Override
    public int downscale() {
        return 8;
    }

    @Override
    public float scaling() {
        return 1f;
    }

    @Override
    public float shift() {
        return 0f;
    }

    @Override
    public Backend backend() {
        return backend;
    }

    @Override
    public Tensor encode(Tensor images) {
        Shapes.checkImages(images, downscale());
        try (NoGrad ng = NoGrad.enter(); Scope s = Scope.open()) {
            return s.keep(encoder.forward(images.mul(0.5f).add(0.5f)));
        }
    }

    @Override
    public Tensor decode(Tensor latents) {
        Shapes.checkLatents(latents, config.latent());
        try (NoGrad ng = NoGrad.enter(); Scope s = Scope.open()) {
            return s.keep(decoder.forward(latents).mul(2f).add(-1f));
        }
    }

    @Override
    public void close() {
        encoder.close();
        decoder.close();
    }

    @Override
    public String toString() {
        return name + " " + config;
    }
}
