package dev.sisma.model;

import static dev.sisma.engine.Ops.add;
import static dev.sisma.engine.Ops.chunk;
import static dev.sisma.engine.Ops.gather;
import static dev.sisma.engine.Ops.mul;
import static dev.sisma.engine.Ops.reshape;
import static dev.sisma.engine.Ops.silu;
import static dev.sisma.engine.Ops.split;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Shape;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Conv2d;
import dev.sisma.engine.nn.Init;
import dev.sisma.engine.nn.Linear;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.ModuleList;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.internal.ShapeOnlyBackend;
import dev.sisma.model.sampling.VelocityField;

/**
 * SISMA (Botti et al., ICIAP 2025): DiT whose blocks are Self-Mamba, Cross-Mamba (B and C from
 * the mask) and an MLP under AdaLN-Zero, as fixed in {@code docs/sisma-model.md}.
 * One file in the order of DiT's {@code models.py}: helpers, embedders, Self-Mamba, Cross-Mamba,
 * the attention baseline, the block, the final layer, the model, positional embedding, scan orders.
 *
 * <p>Parameter names are those of a PyTorch {@code state_dict} of the same model (the spec's
 * table), so {@link #stateDict()} / {@link #loadStateDict} move weights to and from PyTorch
 * unchanged. Tokens are channels-last [B, T, D] in raster order between blocks; each block
 * gathers them into its scan order and scatters back.
 *
 * <p>Not thread-safe for concurrent training; concurrent {@link #forward} calls under
 * {@link NoGrad} from different threads are fine (parameters are only read).
 */
public final class Sisma extends Module {

    // ================================================================ helpers

    /**
     * Frees activations after their last use when no tape needs them ({@link Tensor#free()}; a
     * no-op in training): a denoising step then holds a few of a block's activations at a time.
     */
    static void free(Tensor... ts) {
        for (Tensor t : ts) {
            t.free();
        }
    }

    /** {@code f(t)}, freeing t afterwards unless f returned t itself (an identity scan order). */
    static Tensor consume(Tensor t, java.util.function.UnaryOperator<Tensor> f) {
        Tensor r = f.apply(t);
        if (r != t) {
            t.free();
        }
        return r;
    }

    /** A seed per parameter from the model seed and the parameter's name, so init does not depend on build order. */
    static long seedFor(long seed, String name) {
        long h = seed * 0x9E3779B97F4A7C15L + name.hashCode();
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        return h ^ (h >>> 29);
    }

    /** PyTorch's Sequential-style children "0", "2" (names with gaps: mlp.0, mlp.2, adaLN_modulation.1). */
    static final class Indexed extends Module {
        <M extends Module> M at(int index, M m) {
            return module(Integer.toString(index), m);
        }
    }

    /** Mamba's depthwise causal conv1d: weight [E, 1, K], bias [E]. */
    static final class CausalConv1d extends Module {
        final Parameter weight, bias;

        CausalConv1d(Backend be, int channels, int kernel) {
            weight = parameter("weight", Tensor.zeros(be, channels, 1, kernel));
            bias = parameter("bias", Tensor.zeros(be, channels));
        }

        /** x [B, L, E] -> [B, L, E], causal along L. */
        Tensor forward(Tensor x) {
            return Ops.depthwiseCausalConv1d(x, weight.value(), bias.value());
        }
    }

    // ================================================================ embedders

    /** Conv2d(C -> D, kernel p, stride p) then flatten to tokens: x [B, C, H, W] -> [B, T, D]. */
    static final class PatchEmbed extends Module {
        final Conv2d proj;

        PatchEmbed(Backend be, int in, int hidden, int patch) {
            proj = module("proj", new Conv2d(be, in, hidden, patch, patch, 0, true));
        }

        /** The learned null mask tokens {@code null_tokens} [T, D] (only the mask embedder of a null-mask config has them). */
        Parameter nullTokens(Backend be, int tokens, int hidden) {
            return parameter("null_tokens", Tensor.zeros(be, tokens, hidden));
        }

        Tensor forward(Tensor x) {
            Tensor y = proj.forward(x);                                       // [B, D, g, g]
            Tensor f = reshape(y, y.dim(0), y.dim(1), y.dim(2) * y.dim(3));    // [B, D, T]
            return f.transpose(1, 2);                                         // [B, T, D]
        }
    }

    /** Sinusoidal features of (scale * t), [cos, sin], then Linear, SiLU, Linear: t [B] -> [B, D]. */
    static final class TimestepEmbedder extends Module {
        final Indexed mlp = module("mlp", new Indexed());
        final Linear fc1, fc2;
        final int frequencyDim;
        final double scale;

        TimestepEmbedder(Backend be, int hidden, int frequencyDim, double scale) {
            fc1 = mlp.at(0, new Linear(be, frequencyDim, hidden, true));
            fc2 = mlp.at(2, new Linear(be, hidden, hidden, true));
            this.frequencyDim = frequencyDim;
            this.scale = scale;
        }

        /**
         * DiT's timestep_embedding of (scale t): freqs_i = exp(-ln(10000) i / half),
         * [cos(scale t freqs), sin(scale t freqs)]. Computed in float64 and rounded: the high
         * frequencies turn float32 rounding of 1000 t into errors of 1e-4 otherwise.
         */
        static float[] frequencies(float[] t, int dim, double scale) {
            int half = dim / 2, b = t.length;
            float[] out = new float[b * dim];
            for (int i = 0; i < half; i++) {
                double freq = Math.exp(-Math.log(10000) * i / half);
                for (int s = 0; s < b; s++) {
                    double arg = scale * t[s] * freq;
                    out[s * dim + i] = (float) Math.cos(arg);
                    out[s * dim + half + i] = (float) Math.sin(arg);
                }
            }
            return out;
        }

        Tensor forward(Tensor t) {
            float[] tf = t.toArray();                                          // t needs no gradient
            Tensor f = Tensor.of(t.backend(), frequencies(tf, frequencyDim, scale), tf.length, frequencyDim); // [B, 256]
            return fc2.forward(silu(fc1.forward(f)));                          // [B, D]
        }
    }

    // ================================================================ Self-Mamba

    /** The parameters every Mamba layer has: dt_proj (with dt_bias), A_log, D, out_proj. */
    abstract static class MambaCore extends Module {
        final int inner, state, rank;

        MambaCore(int inner, int state, int rank) {
            this.inner = inner;
            this.state = state;
            this.rank = rank;
        }

        abstract Linear dtProj();

        abstract Parameter aLog();

        abstract Parameter dSkip();

        /** delta = softplus(dt_proj(dlow) + dt_bias): dlow [B, L, R] -> [B, L, E]. */
        Tensor delta(Tensor dlow) {
            return consume(dtProj().forward(dlow), Ops::softplus);
        }

        /** A = -exp(A_log), [E, N]. */
        Tensor a() {
            return consume(Ops.exp(aLog().value()), Ops::neg);
        }

        /**
         * The scan and Mamba's output gate: y = scan(u, delta, A, B, C, D) * silu(z), z the second
         * half of in_proj's output xz (read in place), then out_proj. Frees its inputs but xz's owner's.
         */
        Tensor scanGateOut(Tensor u, Tensor delta, Tensor b, Tensor c, Tensor xz) {
            Tensor a = a();
            Tensor y = Ops.selectiveScan(u, delta, a, b, c, dSkip().value());         // [B, L, E]
            free(a, delta, b, c);
            Tensor g = consume(y, t -> Ops.siluGate(t, xz, inner));                     // [B, L, E]
            return consume(g, outProj()::forward);                                     // [B, L, D]
        }

        abstract Linear outProj();

        /** Mamba init of A_log, D, dt_proj (weight and bias); see the spec's "Mamba core". */
        void initMamba(SismaConfig cfg, long seed, String prefix) {
            Backend be = aLog().value().backend();
            float[] alog = new float[inner * state];
            for (int e = 0; e < inner; e++) {
                for (int n = 0; n < state; n++) {
                    alog[e * state + n] = (float) Math.log(n + 1);
                }
            }
            aLog().set(Tensor.of(be, alog, inner, state));
            Init.constant(dSkip(), 1f);
            float std = (float) Math.pow(rank, -0.5);
            Init.uniform(dtProj().weight, -std, std, seedFor(seed, prefix + "dt_proj.weight"), 0);
            // dt ~ exp(U(log dt_min, log dt_max)), floored; bias = inverse softplus(dt)
            float[] bias = new float[inner];
            long bseed = seedFor(seed, prefix + "dt_proj.bias");
            double lo = Math.log(cfg.dtMin()), hi = Math.log(cfg.dtMax());
            for (int e = 0; e < inner; e++) {
                double u = dev.sisma.engine.spi.Philox.uniformAt(bseed, 0, e);
                double dt = Math.max(Math.exp(u * (hi - lo) + lo), cfg.dtFloor());
                bias[e] = (float) (dt + Math.log(-Math.expm1(-dt)));
            }
            dtProj().bias.set(Tensor.of(be, bias, inner));
        }
    }

    /** Standard Mamba block over the token sequence (already in the block's scan order). */
    static final class SelfMamba extends MambaCore {
        final Linear inProj;
        final CausalConv1d conv1d;
        final Linear xProj, dtProj;
        final Parameter aLog, dSkip;
        final Linear outProj;

        SelfMamba(Backend be, SismaConfig cfg) {
            super(cfg.inner(), cfg.dState(), cfg.dtRank());
            int d = cfg.hidden(), e = cfg.inner(), n = cfg.dState(), r = cfg.dtRank();
            inProj = module("in_proj", new Linear(be, d, 2 * e, false));
            conv1d = module("conv1d", new CausalConv1d(be, e, cfg.convKernel()));
            xProj = module("x_proj", new Linear(be, e, r + 2 * n, false));
            dtProj = module("dt_proj", new Linear(be, r, e, true));
            dtProj.bias.weightDecay(false);
            aLog = parameter("A_log", Tensor.zeros(be, e, n)).weightDecay(false);
            dSkip = parameter("D", Tensor.zeros(be, e)).weightDecay(false);
            outProj = module("out_proj", new Linear(be, e, d, false));
        }

        @Override Linear dtProj() { return dtProj; }
        @Override Parameter aLog() { return aLog; }
        @Override Parameter dSkip() { return dSkip; }
        @Override Linear outProj() { return outProj; }

        /** h [B, L, D] (scan order) -> [B, L, D]. */
        Tensor forward(Tensor h) {
            Tensor xz = inProj.forward(h);                                           // x | z [B, L, 2E]
            Tensor x = Ops.slice(xz, -1, 0, inner);                                  // [B, L, E]
            Tensor u = consume(consume(x, conv1d::forward), Ops::silu);               // [B, L, E]
            Tensor proj = xProj.forward(u);
            List<Tensor> dbc = split(proj, -1, rank, state, state);                 // [B, L, R], [B, L, N], [B, L, N]
            free(proj);
            Tensor delta = consume(dbc.get(0), this::delta);                          // [B, L, E]
            Tensor out = scanGateOut(u, delta, dbc.get(1), dbc.get(2), xz);          // [B, L, D]
            free(u, xz);
            return out;
        }
    }

    // ================================================================ Cross-Mamba

    /** Mamba-ST-style cross layer: delta from the content, B and C from the mask tokens. */
    static final class CrossMamba extends MambaCore {
        final Linear inProj;
        final CausalConv1d conv1d;
        final Linear condProj;
        final CausalConv1d conv1dM;
        final Linear xProjDt, xProjBc, dtProj;
        final Parameter aLog, dSkip;
        final Linear outProj;
        final boolean scanMask;

        CrossMamba(Backend be, SismaConfig cfg) {
            super(cfg.inner(), cfg.dState(), cfg.dtRank());
            int d = cfg.hidden(), e = cfg.inner(), n = cfg.dState(), r = cfg.dtRank();
            inProj = module("in_proj", new Linear(be, d, 2 * e, false));
            conv1d = module("conv1d", new CausalConv1d(be, e, cfg.convKernel()));
            condProj = module("cond_proj", new Linear(be, d, e, false));
            conv1dM = module("conv1d_m", new CausalConv1d(be, e, cfg.convKernel()));
            xProjDt = module("x_proj_dt", new Linear(be, e, r, false));
            xProjBc = module("x_proj_bc", new Linear(be, e, 2 * n, false));
            dtProj = module("dt_proj", new Linear(be, r, e, true));
            dtProj.bias.weightDecay(false);
            aLog = parameter("A_log", Tensor.zeros(be, e, n)).weightDecay(false);
            dSkip = parameter("D", Tensor.zeros(be, e)).weightDecay(false);
            outProj = module("out_proj", new Linear(be, e, d, false));
            scanMask = cfg.crossScanInput() == SismaConfig.CrossScanInput.MASK;
        }

        @Override Linear dtProj() { return dtProj; }
        @Override Parameter aLog() { return aLog; }
        @Override Parameter dSkip() { return dSkip; }
        @Override Linear outProj() { return outProj; }

        /** h [B, L, D] content and sm [B, L, D] mask tokens, both in scan order -> [B, L, D]. */
        Tensor forward(Tensor h, Tensor sm) {
            Tensor xz = inProj.forward(h);                                           // x | z [B, L, 2E]
            Tensor x = Ops.slice(xz, -1, 0, inner);                                  // [B, L, E]
            Tensor u = consume(consume(x, conv1d::forward), Ops::silu);               // content [B, L, E]
            Tensor m = consume(consume(condProj.forward(sm), conv1dM::forward), Ops::silu); // mask [B, L, E]
            Tensor delta = consume(xProjDt.forward(u), this::delta);                  // [B, L, E]
            Tensor proj = xProjBc.forward(m);
            List<Tensor> bc = chunk(proj, 2, -1);                                    // B, C [B, L, N]
            free(proj);
            Tensor out = scanGateOut(scanMask ? m : u, delta, bc.get(0), bc.get(1), xz); // [B, L, D]
            free(u, m, xz);
            return out;
        }
    }

    // ================================================================ attention baseline

    /** Multi-head attention; self-attention when kv == q's input (names: attn.qkv / cross_attn.q, .kv; .proj). */
    static final class Attention extends Module {
        final Linear qkv, q, kv, proj;
        final int heads;

        Attention(Backend be, int hidden, int heads, boolean cross) {
            this.heads = heads;
            if (cross) {
                qkv = null;
                q = module("q", new Linear(be, hidden, hidden, true));
                kv = module("kv", new Linear(be, hidden, 2 * hidden, true));
            } else {
                qkv = module("qkv", new Linear(be, hidden, 3 * hidden, true));
                q = kv = null;
            }
            proj = module("proj", new Linear(be, hidden, hidden, true));
        }

        /** [B, L, D] -> [B, H, L, D/H]. */
        private Tensor heads(Tensor x) {
            int b = x.dim(0), l = x.dim(1), d = x.dim(2);
            return reshape(x, b, l, heads, d / heads).permute(0, 2, 1, 3);
        }

        /** x [B, L, D] attends to ctx [B, S, D] (ctx null: to itself) -> [B, L, D]. */
        Tensor forward(Tensor x, Tensor ctx) {
            int b = x.dim(0), l = x.dim(1), d = x.dim(2);
            Tensor qh, kh, vh;
            if (ctx == null) {
                List<Tensor> p = chunk(qkv.forward(x), 3, -1);                      // q, k, v [B, L, D]
                qh = heads(p.get(0));
                kh = heads(p.get(1));
                vh = heads(p.get(2));
            } else {
                List<Tensor> p = chunk(kv.forward(ctx), 2, -1);                     // k, v [B, S, D]
                qh = heads(q.forward(x));
                kh = heads(p.get(0));
                vh = heads(p.get(1));
            }
            float scale = (float) (1.0 / Math.sqrt(d / heads));
            // softmax(q k^T scale) v without keeping the [B, H, L, S] probabilities for backward
            Tensor o = Ops.attention(qh, kh, vh, scale).permute(0, 2, 1, 3);        // [B, L, H, D/H]
            return proj.forward(reshape(o, b, l, d));                               // [B, L, D]
        }
    }

    // ================================================================ block

    /**
     * A SISMA block (or the attention baseline block), AdaLN-Zero with 9 chunks:
     * x += g1 * SelfMamba(mod(LN x)); x += g2 * CrossMamba(mod(LN x), SM); x += g3 * MLP(mod(LN x)).
     */
    static final class Block extends Module {
        final SelfMamba selfMamba;
        final CrossMamba crossMamba;
        final Attention attn, crossAttn;
        final Indexed mlp;
        final Linear fc1, fc2;
        final Indexed adaLN;
        final Linear modulation;
        final float eps;
        final int[] order, inverse;

        Block(Backend be, SismaConfig cfg, int[] order) {
            int d = cfg.hidden();
            if (cfg.blockType() == SismaConfig.BlockType.SISMA) {
                selfMamba = module("self_mamba", new SelfMamba(be, cfg));
                crossMamba = module("cross_mamba", new CrossMamba(be, cfg));
                attn = crossAttn = null;
            } else {
                attn = module("attn", new Attention(be, d, cfg.attentionHeads(), false));
                crossAttn = module("cross_attn", new Attention(be, d, cfg.attentionHeads(), true));
                selfMamba = null;
                crossMamba = null;
            }
            mlp = module("mlp", new Indexed());
            fc1 = mlp.at(0, new Linear(be, d, cfg.mlpHidden(), true));
            fc2 = mlp.at(2, new Linear(be, cfg.mlpHidden(), d, true));
            adaLN = module("adaLN_modulation", new Indexed());
            modulation = adaLN.at(1, new Linear(be, d, 9 * d, true));
            eps = (float) cfg.lnEps();
            this.order = order;
            this.inverse = order == null ? null : ScanOrders.inverse(order);
        }

        /**
         * x [B, T, D] raster, sm [B, T, D] raster mask tokens, c [B, D] -> [B, T, D] raster.
         * AdaLN's layer norm + modulation and the gated residuals are single fused ops; without a
         * tape each activation is freed after its last use (x, sm and c stay the caller's).
         */
        Tensor forward(Tensor x, Tensor sm, Tensor c) {
            List<Tensor> m = chunk(consume(silu(c), modulation::forward), 9, 1);     // 9 x [B, D]
            Tensor h1 = Ops.layerNormModulate(x, m.get(0), m.get(1), eps);           // [B, T, D]
            Tensor a1 = selfMamba != null ? inRaster(consume(consume(h1, this::toScan), selfMamba::forward))
                    : consume(h1, h -> attn.forward(h, null));
            Tensor x1 = Ops.gatedResidual(x, m.get(2), a1);                          // [B, T, D]
            free(a1);
            Tensor h2 = Ops.layerNormModulate(x1, m.get(3), m.get(4), eps);
            Tensor a2;
            if (crossMamba != null) {
                Tensor sms = toScan(sm);
                a2 = inRaster(consume(consume(h2, this::toScan), h -> crossMamba.forward(h, sms)));
                if (sms != sm) {
                    free(sms);
                }
            } else {
                a2 = consume(h2, h -> crossAttn.forward(h, sm));
            }
            Tensor x2 = Ops.gatedResidual(x1, m.get(5), a2);                         // [B, T, D]
            free(x1, a2);
            Tensor h3 = Ops.layerNormModulate(x2, m.get(6), m.get(7), eps);
            Tensor a3 = consume(consume(consume(h3, fc1::forward), Ops::gelu), fc2::forward); // [B, T, D]
            Tensor out = Ops.gatedResidual(x2, m.get(8), a3);                        // [B, T, D]
            free(x2, a3);
            m.forEach(Tensor::free);
            return out;
        }

        /** Raster order -> this block's scan order (along the token axis). */
        private Tensor toScan(Tensor t) {
            return order == null ? t : gather(t, 1, order);
        }

        /** This block's scan order -> raster order; frees t (when it is a copy). */
        private Tensor inRaster(Tensor t) {
            return inverse == null ? t : consume(t, s -> gather(s, 1, inverse));
        }
    }

    // ================================================================ final layer

    /** LN, mod with (shift, scale) from c, Linear(D -> p p C_out): [B, T, D] -> [B, T, p p C]. */
    static final class FinalLayer extends Module {
        final Linear linear;
        final Indexed adaLN;
        final Linear modulation;
        final float eps;

        FinalLayer(Backend be, SismaConfig cfg) {
            int d = cfg.hidden();
            linear = module("linear", new Linear(be, d, cfg.patch() * cfg.patch() * cfg.outChannels(), true));
            adaLN = module("adaLN_modulation", new Indexed());
            modulation = adaLN.at(1, new Linear(be, d, 2 * d, true));
            eps = (float) cfg.lnEps();
        }

        Tensor forward(Tensor x, Tensor c) {
            List<Tensor> m = chunk(consume(silu(c), modulation::forward), 2, 1);     // shift, scale [B, D]
            return consume(Ops.layerNormModulate(x, m.get(0), m.get(1), eps), linear::forward); // [B, T, p p C]
        }
    }

    // ================================================================ the model

    private final SismaConfig config;
    private final Backend backend;
    final PatchEmbed xEmbedder;
    final PatchEmbed maskEmbedder;
    final Parameter nullTokens;
    final TimestepEmbedder tEmbedder;
    final ModuleList<Block> blocks;
    final FinalLayer finalLayer;
    private final Tensor posEmbed;   // [T, D], fixed, not a parameter

    /** Builds the model on {@code backend} with the spec's initialisation, seeded by {@link SismaConfig#initSeed()}. */
    public Sisma(SismaConfig config, Backend backend) {
        this(config, backend, true);
    }

    private Sisma(SismaConfig cfg, Backend be, boolean init) {
        this.config = cfg;
        this.backend = be;
        int d = cfg.hidden();
        xEmbedder = module("x_embedder", new PatchEmbed(be, cfg.inChannels(), d, cfg.patch()));
        maskEmbedder = module("mask_embedder", new PatchEmbed(be, cfg.maskClasses(), d, cfg.patch()));
        nullTokens = cfg.nullMask() ? maskEmbedder.nullTokens(be, cfg.tokens(), d) : null;
        tEmbedder = module("t_embedder", new TimestepEmbedder(be, d, cfg.frequencyDim(), cfg.timestepScale()));
        blocks = module("blocks", new ModuleList<>());
        for (int i = 0; i < cfg.depth(); i++) {
            int[] order = ScanOrders.forBlock(cfg.scanSchedule(), i, cfg.grid());
            blocks.add(new Block(be, cfg, ScanOrders.isIdentity(order) ? null : order));
        }
        finalLayer = module("final_layer", new FinalLayer(be, cfg));
        posEmbed = init ? Tensor.of(be, posEmbed2d(d, cfg.grid()), cfg.tokens(), d).detachFromScope() : null;
        if (init) {
            initializeWeights();
        }
    }

    public SismaConfig config() {
        return config;
    }

    public Backend backend() {
        return backend;
    }

    /**
     * Parameter names and shapes of a config, in registration order, WITHOUT allocating them (the
     * model is built on a backend that holds no memory). For {@code sisma-L/2}: 802.2M values.
     */
    public static Map<String, Shape> parameterShapes(SismaConfig cfg) {
        Map<String, Shape> out = new LinkedHashMap<>();
        try (Sisma meta = new Sisma(cfg, ShapeOnlyBackend.create(), false)) {
            meta.namedParameters().forEach((n, p) -> out.put(n, p.value().shape()));
        }
        return out;
    }

    /** Total parameter values of a config, without allocating them. */
    public static long parameterCount(SismaConfig cfg) {
        long n = 0;
        for (Shape s : parameterShapes(cfg).values()) {
            n += s.size();
        }
        return n;
    }

    /** DiT's initialize_weights plus the Mamba init, every random draw keyed by (init seed, parameter name). */
    private void initializeWeights() {
        long seed = config.initSeed();
        Map<String, Parameter> named = namedParameters();
        // every Linear: xavier-uniform weight, zero bias (biases are already zero)
        named.forEach((name, p) -> {
            if (name.endsWith(".weight") && p.value().rank() == 2) {
                Init.xavierUniform(p, seedFor(seed, name), 0);
            }
        });
        // patch embeds: xavier on the flattened [D, C p p] weight (Init treats conv weights that way), zero bias
        Init.xavierUniform(xEmbedder.proj.weight, seedFor(seed, "x_embedder.proj.weight"), 0);
        Init.xavierUniform(maskEmbedder.proj.weight, seedFor(seed, "mask_embedder.proj.weight"), 0);
        if (nullTokens != null) {
            Init.normal(nullTokens, 0f, 0.02f, seedFor(seed, "mask_embedder.null_tokens"), 0);
        }
        // timestep MLP ~ N(0, 0.02)
        Init.normal(tEmbedder.fc1.weight, 0f, 0.02f, seedFor(seed, "t_embedder.mlp.0.weight"), 0);
        Init.normal(tEmbedder.fc2.weight, 0f, 0.02f, seedFor(seed, "t_embedder.mlp.2.weight"), 0);
        for (int i = 0; i < blocks.size(); i++) {
            Block b = blocks.get(i);
            String pre = "blocks." + i + ".";
            // AdaLN-Zero: each block starts as the identity
            Init.constant(b.modulation.weight, 0f);
            Init.constant(b.modulation.bias, 0f);
            if (b.selfMamba != null) {
                initMambaLayer(b.selfMamba, b.selfMamba.conv1d, null, pre + "self_mamba.");
                initMambaLayer(b.crossMamba, b.crossMamba.conv1d, b.crossMamba.conv1dM, pre + "cross_mamba.");
            }
        }
        Init.constant(finalLayer.modulation.weight, 0f);
        Init.constant(finalLayer.modulation.bias, 0f);
        Init.constant(finalLayer.linear.weight, 0f);
        Init.constant(finalLayer.linear.bias, 0f);
    }

    /** Mamba core init; the depthwise convs keep PyTorch's default Conv1d init, U(-1/sqrt(K), 1/sqrt(K)). */
    private void initMambaLayer(MambaCore layer, CausalConv1d conv, CausalConv1d convM, String prefix) {
        layer.initMamba(config, config.initSeed(), prefix);
        float bound = (float) (1.0 / Math.sqrt(config.convKernel()));
        for (var c : new CausalConv1d[] {conv, convM}) {
            if (c == null) {
                continue;
            }
            String n = prefix + (c == conv ? "conv1d." : "conv1d_m.");
            Init.uniform(c.weight, -bound, bound, seedFor(config.initSeed(), n + "weight"), 0);
            Init.uniform(c.bias, -bound, bound, seedFor(config.initSeed(), n + "bias"), 0);
        }
    }

    /**
     * The mask at the model's grid: one-hot or class fractions [B, K, S, S] with S = image size
     * (area-averaged or nearest-sampled to the input size) or already the input size.
     */
    Tensor maskAtInputSize(Tensor mask) {
        int s = mask.dim(2), in = config.inputSize();
        if (s == in) {
            return mask;
        }
        int f = s / in;
        return switch (config.maskDownsample()) {
            case AREA -> Ops.avgPool2d(mask, f);                                         // [B, K, H, W]
            case NEAREST -> {
                int[] idx = new int[in];
                for (int i = 0; i < in; i++) {
                    idx[i] = i * f;
                }
                yield gather(gather(mask, 2, idx), 3, idx);                             // [B, K, H, W]
            }
        };
    }

    /** Checks a forward input's shape, naming it. */
    private static void expect(String what, Tensor t, int... dims) {
        if (!t.shape().equals(Shape.of(dims))) {
            throw new IllegalArgumentException(what + ": expected shape " + Shape.of(dims) + ", found " + t.shape());
        }
    }

    /**
     * The velocity network: x [B, C, H, W] (H = W = input size), t [B] in [0, 1], mask [B, 19, S, S]
     * one-hot or class fractions at image size S (or at the input size). Returns v [B, C_out, H, W].
     */
    public Tensor forward(Tensor x, Tensor t, Tensor mask) {
        return forward(x, t, mask, null);
    }

    /**
     * As {@link #forward(Tensor, Tensor, Tensor)}; {@code useNull[b]} replaces sample b's mask by
     * the learned null mask (mask dropout, the unconditional half of CFG). {@code useNull} may be null.
     */
    public Tensor forward(Tensor x, Tensor t, Tensor mask, boolean[] useNull) {
        SismaConfig cfg = config;
        int b = x.dim(0), is = cfg.inputSize();
        expect("x", x, b, cfg.inChannels(), is, is);
        expect("t", t, b);
        if (mask.rank() != 4 || mask.dim(0) != b || mask.dim(1) != cfg.maskClasses()
                || (mask.dim(2) != cfg.imageSize() && mask.dim(2) != is) || mask.dim(3) != mask.dim(2)) {
            throw new IllegalArgumentException("mask: expected shape " + Shape.of(b, cfg.maskClasses(), cfg.imageSize(), cfg.imageSize())
                    + (cfg.imageSize() != is ? " or " + Shape.of(b, cfg.maskClasses(), is, is) : "") + ", found " + mask.shape());
        }
        Tensor h = add(xEmbedder.forward(x), posEmbed);                           // [B, T, D]
        Tensor sm = maskEmbedder.forward(maskAtInputSize(mask));                  // [B, T, D]
        if (useNull != null && anyTrue(useNull)) {
            if (nullTokens == null) {
                throw new IllegalStateException("config " + cfg.name() + " has no null mask (null_mask: false)");
            }
            float[] keep = new float[b];
            for (int i = 0; i < b; i++) {
                keep[i] = useNull[i] ? 0f : 1f;
            }
            Tensor k = Tensor.of(backend, keep, b, 1, 1);                        // [B, 1, 1]
            Tensor drop = Tensor.of(backend, invert(keep), b, 1, 1);
            sm = add(mul(sm, k), mul(drop, nullTokens.value()));                  // [B, T, D]
        }
        sm = add(sm, posEmbed);                                                   // [B, T, D]
        Tensor c = tEmbedder.forward(t);                                          // [B, D]
        boolean inference = !NoGrad.gradEnabled() || !anyRequiresGrad();
        for (Block block : blocks.items()) {
            if (inference) {
                // no tape: free each block's activations as soon as its output exists
                try (Scope s = Scope.open()) {
                    Tensor next = s.keep(block.forward(h, sm, c));               // [B, T, D]
                    h.free();                                                    // the previous block's output
                    h = next;
                }
            } else {
                h = block.forward(h, sm, c);                                      // [B, T, D]
            }
        }
        Tensor out = finalLayer.forward(h, c);                                    // [B, T, p p C]
        return unpatchify(out);                                                   // [B, C, H, W]
    }

    private boolean anyRequiresGrad() {
        for (Parameter p : namedParameters().values()) {
            if (p.trainable()) {
                return true;
            }
        }
        return false;
    }

    private static boolean anyTrue(boolean[] a) {
        for (boolean v : a) {
            if (v) {
                return true;
            }
        }
        return false;
    }

    private static float[] invert(float[] keep) {
        float[] d = new float[keep.length];
        for (int i = 0; i < keep.length; i++) {
            d[i] = 1f - keep[i];
        }
        return d;
    }

    /**
     * Classifier-free guidance: runs the conditional and the null-mask batch together and returns
     * v_null + scale (v_cond - v_null). With scale 1 (or no null mask) it is a plain forward.
     */
    public Tensor forwardWithCfg(Tensor x, Tensor t, Tensor mask, double scale) {
        if (scale == 1.0) {
            return forward(x, t, mask);
        }
        if (nullTokens == null) {
            throw new IllegalStateException("classifier-free guidance needs a model trained with a null mask (config " + config.name()
                    + " has null_mask: false); use scale 1");
        }
        int b = x.dim(0);
        Tensor xx = Ops.concat(0, x, x);                                          // [2B, C, H, W]
        Tensor tt = Ops.concat(0, t, t);                                          // [2B]
        Tensor mm = Ops.concat(0, mask, mask);                                    // [2B, 19, S, S]
        boolean[] useNull = new boolean[2 * b];
        for (int i = b; i < 2 * b; i++) {
            useNull[i] = true;
        }
        Tensor v = forward(xx, tt, mm, useNull);                                  // [2B, C, H, W]
        Tensor vc = Ops.slice(v, 0, 0, b), vu = Ops.slice(v, 0, b, 2 * b);       // [B, C, H, W] each
        return add(vu, Ops.sub(vc, vu).mul((float) scale));                       // [B, C, H, W]
    }

    /**
     * The velocity field of this model for a fixed mask [B, 19, S, S] (x's batch must match it),
     * for the samplers: v(x, t) = {@link #forwardWithCfg}(x, t for every sample, mask, cfgScale).
     */
    public VelocityField velocityField(Tensor mask) {
        return (x, t, cfgScale) -> {
            float[] tv = new float[x.dim(0)];
            java.util.Arrays.fill(tv, t);
            return forwardWithCfg(x, Tensor.of(backend, tv, tv.length), mask, cfgScale);
        };
    }

    /** Tokens [B, T, p p C] (channel fastest, then column, then row in the patch) -> image [B, C, H, W]. */
    Tensor unpatchify(Tensor x) {
        int p = config.patch(), c = config.outChannels(), g = config.grid(), b = x.dim(0);
        Tensor r = reshape(x, b, g, g, p, p, c);                                  // [B, gh, gw, p, p, C]
        Tensor o = r.permute(0, 5, 1, 3, 2, 4);                                   // [B, C, gh, p, gw, p]
        return reshape(o, b, c, g * p, g * p);                                    // [B, C, H, W]
    }

    @Override
    public void close() {
        super.close();
        if (posEmbed != null) {
            posEmbed.close();
        }
    }

    // ================================================================ positional embedding

    /**
     * MAE/DiT 2D sin-cos embedding, [g*g, D] row-major over tokens: for the token at row r, column
     * c, the first D/2 values encode c and the last D/2 encode r; each half is [sin(pos w_i),
     * cos(pos w_i)] for i < D/4, w_i = 10000^(-i / (D/4)). Computed in float64 as numpy does.
     */
    public static float[] posEmbed2d(int dim, int grid) {
        int quarter = dim / 4;
        float[] out = new float[grid * grid * dim];
        for (int r = 0; r < grid; r++) {
            for (int c = 0; c < grid; c++) {
                int base = (r * grid + c) * dim;
                for (int i = 0; i < quarter; i++) {
                    double w = 1.0 / Math.pow(10000, (double) i / quarter);
                    out[base + i] = (float) Math.sin(c * w);
                    out[base + quarter + i] = (float) Math.cos(c * w);
                    out[base + 2 * quarter + i] = (float) Math.sin(r * w);
                    out[base + 3 * quarter + i] = (float) Math.cos(r * w);
                }
            }
        }
        return out;
    }

    // ================================================================ scan orders

    /** Token orders on a g x g grid; an order lists raster indices in the order they are scanned. */
    public static final class ScanOrders {
        private ScanOrders() {
        }

        /** The order block {@code i} scans in under {@code schedule}. */
        public static int[] forBlock(SismaConfig.ScanSchedule schedule, int i, int g) {
            return switch (schedule) {
                case RASTER -> rowMajor(g, false);
                case ROWCOL4 -> switch (i % 4) {
                    case 0 -> rowMajor(g, false);
                    case 1 -> rowMajor(g, true);
                    case 2 -> columnMajor(g, false);
                    default -> columnMajor(g, true);
                };
                case SNAKE8 -> snake(g, i % 8);
            };
        }

        /** Row-major raster order, or its reverse. */
        public static int[] rowMajor(int g, boolean reversed) {
            int[] o = new int[g * g];
            for (int k = 0; k < o.length; k++) {
                o[k] = reversed ? o.length - 1 - k : k;
            }
            return o;
        }

        /** Column-major order (down each column, columns left to right), or its reverse. */
        public static int[] columnMajor(int g, boolean reversed) {
            int[] o = new int[g * g];
            int k = 0;
            for (int c = 0; c < g; c++) {
                for (int r = 0; r < g; r++) {
                    o[k++] = r * g + c;
                }
            }
            return reversed ? reverse(o) : o;
        }

        /**
         * The 8 snake orders of U-Shape Mamba: variant v = 2 * corner + axis; axis 0 runs along
         * rows (boustrophedon), axis 1 along columns; the corner (0 top-left, 1 top-right,
         * 2 bottom-left, 3 bottom-right) is where the scan starts.
         */
        public static int[] snake(int g, int v) {
            int corner = v / 2;
            boolean columns = v % 2 == 1;
            boolean flipRows = corner >= 2, flipCols = corner % 2 == 1;
            int[] o = new int[g * g];
            int k = 0;
            for (int a = 0; a < g; a++) {
                for (int bb = 0; bb < g; bb++) {
                    int along = a % 2 == 0 ? bb : g - 1 - bb;
                    int r = columns ? along : a, c = columns ? a : along;
                    if (flipRows) {
                        r = g - 1 - r;
                    }
                    if (flipCols) {
                        c = g - 1 - c;
                    }
                    o[k++] = r * g + c;
                }
            }
            return o;
        }

        public static int[] inverse(int[] order) {
            int[] inv = new int[order.length];
            for (int k = 0; k < order.length; k++) {
                inv[order[k]] = k;
            }
            return inv;
        }

        public static boolean isIdentity(int[] order) {
            for (int k = 0; k < order.length; k++) {
                if (order[k] != k) {
                    return false;
                }
            }
            return true;
        }

        private static int[] reverse(int[] o) {
            int[] r = new int[o.length];
            for (int k = 0; k < o.length; k++) {
                r[k] = o[o.length - 1 - k];
            }
            return r;
        }
    }
}
