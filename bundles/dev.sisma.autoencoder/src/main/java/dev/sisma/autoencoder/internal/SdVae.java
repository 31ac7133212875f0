package dev.sisma.autoencoder.internal;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Conv2d;
import dev.sisma.engine.nn.GroupNorm;
import dev.sisma.engine.nn.Linear;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.ModuleList;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;

/**
 * Stable Diffusion's VAE ({@code AutoencoderKL}, the latent diffusion paper's KL-f8 autoencoder)
 * under diffusers' module names, so {@code sd-vae-ft-mse}'s {@code diffusion_pytorch_model.safetensors}
 * loads as it is. Encoder: conv_in, down blocks of ResNet blocks (GroupNorm, SiLU, 3x3 conv, twice,
 * 1x1 shortcut when the width changes) with a stride-2 conv after a zero pad of one on the right
 * and bottom between them, a mid block (ResNet, single-head self-attention over the pixels, ResNet),
 * GroupNorm-SiLU-conv_out to mean and log-variance, quant_conv. The decoder mirrors it
 * (post_quant_conv, conv_in, mid block, up blocks of layers + 1 ResNets with nearest 2x upsampling
 * and a 3x3 conv, GroupNorm-SiLU-conv_out).
 *
 * <p>Encoding gives the posterior <em>mean</em> times the scaling factor, never a sample: the same
 * image always gives the same latent (a latent cache and parity tests depend on it; the posterior's
 * standard deviation is small next to the latents' spread). Decoding divides by the factor first.
 */
final class SdVae implements Autoencoder {
    /** Epsilon of every GroupNorm in the diffusers VAE. */
    static final float EPS = 1e-6f;
    /** Stable Diffusion 1.x/2.x's latent scaling factor. */
    static final float SD_SCALING = 0.18215f;

    /**
     * A VAE shape: the widths of the down blocks (sd-vae-ft-mse: 128, 256, 512, 512), ResNets per down
     * block (2; the up blocks have one more), latent channels (4), GroupNorm groups (32), scaling factor.
     */
    record Config(int[] channels, int layers, int latent, int groups, float scaling) {
        static final Config SD = new Config(new int[] {128, 256, 512, 512}, 2, 4, 32, SD_SCALING);

        Config {
            channels = channels.clone();
        }

        int downscale() {
            return 1 << (channels.length - 1);
        }

        @Override
        public String toString() {
            return "AutoencoderKL(channels " + Arrays.toString(channels) + ", layers " + layers + ", latent " + latent
                    + ", groups " + groups + ", scaling " + scaling + ")";
        }

        /**
         * Read from a weights file: the widths and ResNet count from the encoder's tensor shapes, latent
         * channels from post_quant_conv; groups and scaling are not in the weights: 32 and 0.18215 unless
         * the file's metadata says {@code norm_num_groups} / {@code scaling_factor} (diffusers' config keys).
         */
        static Config of(SafeTensorsFile f) {
            String what = "diffusers AutoencoderKL weights";
            List<Integer> widths = new ArrayList<>();
            while (f.contains("encoder.down_blocks." + widths.size() + ".resnets.0.conv1.weight")) {
                widths.add(Math.toIntExact(f.info("encoder.down_blocks." + widths.size() + ".resnets.0.conv1.weight").shape()[0]));
            }
            if (widths.isEmpty()) {
                Weights.shape(f, "encoder.down_blocks.0.resnets.0.conv1.weight", what);
            }
            int layers = 0;
            while (f.contains("encoder.down_blocks.0.resnets." + layers + ".conv1.weight")) {
                layers++;
            }
            int latent = Math.toIntExact(Weights.shape(f, "post_quant_conv.weight", what)[0]);
            int groups = intMeta(f, "norm_num_groups", 32);
            float scaling = (float) doubleMeta(f, "scaling_factor", SD_SCALING);
            for (int w : widths) {
                if (w % groups != 0) {
                    throw new InputException(f.path() + ": " + w + " channels do not split into " + groups
                            + " GroupNorm groups (set the metadata key norm_num_groups)");
                }
            }
            return new Config(widths.stream().mapToInt(Integer::intValue).toArray(), layers, latent, groups, scaling);
        }

        private static int intMeta(SafeTensorsFile f, String key, int fallback) {
            String v = f.metadata().get(key);
            try {
                int n = v == null ? fallback : Integer.parseInt(v.trim());
                if (n <= 0) {
                    throw new NumberFormatException();
                }
                return n;
            } catch (NumberFormatException e) {
                throw new InputException(f.path() + ": metadata " + key + " is not a positive integer: '" + v + "'");
            }
        }

        private static double doubleMeta(SafeTensorsFile f, String key, double fallback) {
            String v = f.metadata().get(key);
            try {
                double d = v == null ? fallback : Double.parseDouble(v.trim());
                if (!(d > 0) || Double.isInfinite(d)) {
                    throw new NumberFormatException();
                }
                return d;
            } catch (NumberFormatException e) {
                throw new InputException(f.path() + ": metadata " + key + " is not a positive number: '" + v + "'");
            }
        }
    }

    private final String name;
    private final Config config;
    private final Backend backend;
    final Vae vae;

    SdVae(String name, Config config, Backend backend) {
        this.name = name;
        this.config = config;
        this.backend = backend;
        this.vae = new Vae(backend, config);
    }

    /** The VAE with the weights of {@code f} (names and shapes checked; see {@link #fileNames}). */
    static SdVae load(String name, SafeTensorsFile f, Backend backend) {
        Config cfg = Config.of(f);
        SdVae v = new SdVae(name, cfg, backend);
        try {
            Weights.load(v.vae, f, "", SdVae::fileNames, cfg.toString());
            for (Parameter p : v.vae.parameters()) {
                p.trainable(false);
            }
            return v;
        } catch (RuntimeException e) {
            v.close();
            throw e;
        }
    }

    /**
     * The names a parameter may have in a file: its own, and for the attention's projections the
     * names diffusers used before 0.15 ({@code query}, {@code key}, {@code value}, {@code proj_attn}),
     * which older exports of sd-vae-ft-mse still carry (diffusers renames them on load too).
     */
    static List<String> fileNames(String param) {
        String[][] legacy = {{".to_q.", ".query."}, {".to_k.", ".key."}, {".to_v.", ".value."}, {".to_out.0.", ".proj_attn."}};
        for (String[] l : legacy) {
            if (param.contains(".attentions.") && param.contains(l[0])) {
                return List.of(param, param.replace(l[0], l[1]));
            }
        }
        return List.of(param);
    }

    Config config() {
        return config;
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
        return config.downscale();
    }

    @Override
    public float scaling() {
        return config.scaling();
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
            Tensor h = vae.encoder.forward(images);
            Tensor moments = Sequential.step(h, null, vae.quantConv::forward);
            // The posterior mean: the first half of the channels (the rest is the log-variance).
            Tensor mean = Ops.slice(moments, 1, 0, config.latent());
            return s.keep(mean.mul(config.scaling()));
        }
    }

    @Override
    public Tensor decode(Tensor latents) {
        Shapes.checkLatents(latents, config.latent());
        try (NoGrad ng = NoGrad.enter(); Scope s = Scope.open()) {
            Tensor z = vae.postQuantConv.forward(latents.mul(1f / config.scaling()));
            return s.keep(vae.decoder.forward(z));
        }
    }

    @Override
    public void close() {
        vae.close();
    }

    @Override
    public String toString() {
        return name + " " + config;
    }

    // ------------------------------------------------------------------ modules, named as in diffusers

    static final class Vae extends Module {
        final Encoder encoder;
        final Decoder decoder;
        final Conv2d quantConv, postQuantConv;

        Vae(Backend be, Config c) {
            encoder = module("encoder", new Encoder(be, c));
            decoder = module("decoder", new Decoder(be, c));
            quantConv = module("quant_conv", new Conv2d(be, 2 * c.latent(), 2 * c.latent(), 1, 1, 0, true));
            postQuantConv = module("post_quant_conv", new Conv2d(be, c.latent(), c.latent(), 1, 1, 0, true));
        }
    }

    private static Conv2d conv3(Backend be, int in, int out) {
        return new Conv2d(be, in, out, 3, 1, 1, true);
    }

    /** GroupNorm, SiLU, conv, GroupNorm, SiLU, conv, plus the input (through a 1x1 conv when the width changes). */
    static final class Resnet extends Module {
        private final GroupNorm norm1, norm2;
        private final Conv2d conv1, conv2, shortcut;

        Resnet(Backend be, int in, int out, int groups) {
            norm1 = module("norm1", new GroupNorm(be, groups, in, EPS));
            conv1 = module("conv1", conv3(be, in, out));
            norm2 = module("norm2", new GroupNorm(be, groups, out, EPS));
            conv2 = module("conv2", conv3(be, out, out));
            shortcut = in == out ? null : module("conv_shortcut", new Conv2d(be, in, out, 1, 1, 0, true));
        }

        Tensor forward(Tensor x) {
            Tensor h = conv1.forward(Ops.silu(norm1.forward(x)));
            h = conv2.forward(Ops.silu(norm2.forward(h)));
            return Ops.add(shortcut == null ? x : shortcut.forward(x), h);
        }
    }

    /** Self-attention over the pixels with one head as wide as the channels, after a GroupNorm; residual. */
    static final class Attention extends Module {
        private final GroupNorm norm;
        private final Linear q, k, v, out;

        Attention(Backend be, int c, int groups) {
            norm = module("group_norm", new GroupNorm(be, groups, c, EPS));
            q = module("to_q", new Linear(be, c, c, true));
            k = module("to_k", new Linear(be, c, c, true));
            v = module("to_v", new Linear(be, c, c, true));
            ModuleList<Linear> o = module("to_out", new ModuleList<>());
            out = o.add(new Linear(be, c, c, true));
        }

        Tensor forward(Tensor x) {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
            Tensor t = Ops.transpose(Ops.reshape(norm.forward(x), n, c, h * w), 1, 2); // [N, HW, C]
            Tensor o = Ops.attention(q.forward(t), k.forward(t), v.forward(t), (float) (1 / Math.sqrt(c)));
            Tensor back = Ops.reshape(Ops.transpose(out.forward(o), 1, 2), n, c, h, w);
            return Ops.add(x, back);
        }
    }

    static final class MidBlock extends Module {
        private final ModuleList<Resnet> resnets;
        private final Attention attention;

        MidBlock(Backend be, int c, int groups) {
            ModuleList<Attention> attentions = module("attentions", new ModuleList<>());
            attention = attentions.add(new Attention(be, c, groups));
            resnets = module("resnets", new ModuleList<>());
            resnets.add(new Resnet(be, c, c, groups));
            resnets.add(new Resnet(be, c, c, groups));
        }

        Tensor forward(Tensor x) {
            Tensor h = Sequential.step(x, x, resnets.get(0)::forward);
            h = Sequential.step(h, x, attention::forward);
            return Sequential.step(h, x, resnets.get(1)::forward);
        }
    }

    /** The stride-2 conv; its input is first padded with one zero row at the bottom and one zero column at the right. */
    static final class Downsample extends Module {
        private final Conv2d conv;

        Downsample(Backend be, int c) {
            conv = module("conv", new Conv2d(be, c, c, 3, 2, 0, true));
        }

        Tensor forward(Tensor x) {
            int n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
            Tensor right = Ops.concat(3, x, Tensor.zeros(x.backend(), n, c, h, 1));
            Tensor padded = Ops.concat(2, right, Tensor.zeros(x.backend(), n, c, 1, w + 1));
            return conv.forward(padded);
        }
    }

    /** Nearest 2x upsampling, then a 3x3 conv. */
    static final class Upsample extends Module {
        private final Conv2d conv;

        Upsample(Backend be, int c) {
            conv = module("conv", conv3(be, c, c));
        }

        Tensor forward(Tensor x) {
            return conv.forward(Ops.upsampleNearest2d(x, 2));
        }
    }

    /** ResNet blocks, then (all but the last block) a down- or upsampler. */
    static final class Stage extends Module {
        private final ModuleList<Resnet> resnets;
        private final Downsample down;
        private final Upsample up;

        Stage(Backend be, int in, int out, int layers, int groups, boolean down, boolean up) {
            resnets = module("resnets", new ModuleList<>());
            for (int i = 0; i < layers; i++) {
                resnets.add(new Resnet(be, i == 0 ? in : out, out, groups));
            }
            this.down = down ? module("downsamplers", new ModuleList<Downsample>()).add(new Downsample(be, out)) : null;
            this.up = up ? module("upsamplers", new ModuleList<Upsample>()).add(new Upsample(be, out)) : null;
        }

        Tensor forward(Tensor x) {
            Tensor h = x;
            for (Resnet r : resnets.items()) {
                h = Sequential.step(h, x, r::forward);
            }
            if (down != null) {
                h = Sequential.step(h, x, down::forward);
            }
            if (up != null) {
                h = Sequential.step(h, x, up::forward);
            }
            return h;
        }
    }

    static final class Encoder extends Module {
        private final Conv2d convIn, convOut;
        private final ModuleList<Stage> blocks;
        private final MidBlock mid;
        private final GroupNorm normOut;

        Encoder(Backend be, Config c) {
            int[] ch = c.channels();
            convIn = module("conv_in", conv3(be, 3, ch[0]));
            blocks = module("down_blocks", new ModuleList<>());
            int prev = ch[0];
            for (int i = 0; i < ch.length; i++) {
                blocks.add(new Stage(be, prev, ch[i], c.layers(), c.groups(), i < ch.length - 1, false));
                prev = ch[i];
            }
            mid = module("mid_block", new MidBlock(be, prev, c.groups()));
            normOut = module("conv_norm_out", new GroupNorm(be, c.groups(), prev, EPS));
            convOut = module("conv_out", conv3(be, prev, 2 * c.latent()));
        }

        Tensor forward(Tensor x) {
            Tensor h = Sequential.step(x, x, convIn::forward);
            for (Stage b : blocks.items()) {
                h = Sequential.step(h, x, b::forward);
            }
            h = Sequential.step(h, x, mid::forward);
            return Sequential.step(h, x, t -> convOut.forward(Ops.silu(normOut.forward(t))));
        }
    }

    static final class Decoder extends Module {
        private final Conv2d convIn, convOut;
        private final ModuleList<Stage> blocks;
        private final MidBlock mid;
        private final GroupNorm normOut;

        Decoder(Backend be, Config c) {
            int[] ch = c.channels();
            int top = ch[ch.length - 1];
            convIn = module("conv_in", conv3(be, c.latent(), top));
            mid = module("mid_block", new MidBlock(be, top, c.groups()));
            blocks = module("up_blocks", new ModuleList<>());
            int prev = top;
            for (int i = 0; i < ch.length; i++) {
                int out = ch[ch.length - 1 - i];
                blocks.add(new Stage(be, prev, out, c.layers() + 1, c.groups(), false, i < ch.length - 1));
                prev = out;
            }
            normOut = module("conv_norm_out", new GroupNorm(be, c.groups(), prev, EPS));
            convOut = module("conv_out", conv3(be, prev, 3));
        }

        Tensor forward(Tensor z) {
            Tensor h = Sequential.step(z, z, convIn::forward);
            h = Sequential.step(h, z, mid::forward);
            for (Stage b : blocks.items()) {
                h = Sequential.step(h, z, b::forward);
            }
            return Sequential.step(h, z, t -> convOut.forward(Ops.silu(normOut.forward(t))));
        }
    }
}
