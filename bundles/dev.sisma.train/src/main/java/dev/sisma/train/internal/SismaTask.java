package dev.sisma.train.internal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.data.image.Sheets;
import dev.sisma.data.mask.MaskColours;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.Philox;
import dev.sisma.model.FlowMatching;
import dev.sisma.model.ImageSpace;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Sampler;

/**
 * Trains a {@link Sisma} model with rectified-flow matching on a {@link Dataset}, in pixel space or
 * in the latents of its config's autoencoder ({@link ImageSpace}; each image encoded once into a
 * {@link LatentCache}). Holds the trained model and an EMA model of the same config; samples the
 * validation grid with the EMA model (decoded to images).
 */
public final class SismaTask implements TrainingTask, AutoCloseable {
    private final SismaConfig config;
    private final Backend backend;
    private final Sisma model;
    private final Sisma ema;
    private final Batches batches;
    private final FlowMatching flow;
    private final Dataset dataset;
    private final List<Mask> validationMasks;
    private final int samplesPerMask;
    private final Sampler sampler;
    private final int sampleSteps;
    private final ImageSpace space;
    private final LatentCache cache;   // null in pixel space

    /** A pixel-space task; see {@link #SismaTask(SismaConfig, Backend, Dataset, List, int, Sampler, int, ImageSpace, Path)}. */
    public SismaTask(SismaConfig config, Backend backend, Dataset dataset, List<Mask> validationMasks,
                     int samplesPerMask, Sampler sampler, int sampleSteps) {
        this(config, backend, dataset, validationMasks, samplesPerMask, sampler, sampleSteps, ImageSpace.pixel(config), null);
    }

    /**
     * @param validationMasks fixed masks for the sample grid (at the image size)
     * @param sampler         for the sample grid
     * @param space           the config's image space (its autoencoder on {@code backend} for a latent config)
     * @param latentCache     the root folder of the latent cache (latent configs only)
     */
    public SismaTask(SismaConfig config, Backend backend, Dataset dataset, List<Mask> validationMasks,
                     int samplesPerMask, Sampler sampler, int sampleSteps, ImageSpace space, Path latentCache) {
        if (space.config() != config) {
            throw new IllegalArgumentException("the image space is for config " + space.config().name() + ", not " + config.name());
        }
        this.space = space;
        this.cache = space.isLatent() ? new LatentCache(dataset, space, latentCache) : null;
        this.config = config;
        this.backend = backend;
        this.dataset = dataset;
        this.model = new Sisma(config, backend);
        this.ema = new Sisma(config, backend);
        ema.namedParameters().values().forEach(p -> p.trainable(false));
        this.flow = new FlowMatching(config);
        this.batches = new Batches(dataset, config.inputSize(), config.maskClasses());
        this.validationMasks = List.copyOf(validationMasks);
        this.samplesPerMask = samplesPerMask;
        this.sampler = sampler;
        this.sampleSteps = sampleSteps;
    }

    public Sisma model() {
        return model;
    }

    public Sisma emaModel() {
        return ema;
    }

    @Override
    public Map<String, Parameter> parameters() {
        return model.namedParameters();
    }

    @Override
    public Map<String, Parameter> emaParameters() {
        return ema.namedParameters();
    }

    @Override
    public String configJson() {
        return config.toJson();
    }

    @Override
    public String describe() {
        return String.format(java.util.Locale.ROOT, "model %s: %,d parameters, %s; data: %s%s", config.name(),
                model.parameterCount(), backend.name() + " (" + backend.device() + ")", dataset.description(),
                cache == null ? "" : "; latents of " + space.autoencoder().orElseThrow().name() + " cached in " + cache.dir());
    }

    /** The latent cache (latent configs only). */
    LatentCache latentCache() {
        return cache;
    }

    /**
     * The model bundle's rectified-flow loss ({@link FlowMatching}: logit-normal t, noise and
     * mask dropout keyed by (seed, step)) on step {@code step}'s batch (indices keyed by (seed, step) too).
     */
    @Override
    public Tensor loss(long step, long seed, int batch) {
        int[] idx = batches.indices(seed, step, batch);
        Tensor[] xm = cache == null ? batches.load(backend, idx) : latents(idx);
        return flow.loss(model, xm[0], xm[1], seed, step);
    }

    /** Model-space latents [B, C, s, s] and one-hot masks [B, classes, S, S] at image size, from the cache. */
    private Tensor[] latents(int[] idx) {
        List<LatentCache.Entry> entries = cache.get(idx);
        int per = entries.get(0).latent().length, s = config.inputSize();
        float[] z = new float[idx.length * per];
        List<Mask> masks = new ArrayList<>();
        for (int i = 0; i < idx.length; i++) {
            System.arraycopy(entries.get(i).latent(), 0, z, i * per, per);
            masks.add(entries.get(i).mask());
        }
        Tensor raw = Tensor.of(backend, z, idx.length, config.inChannels(), s, s);
        return new Tensor[] {space.toModel(raw), Batches.oneHot(backend, masks, config.maskClasses())};
    }

    /** Samples {@code perMask} images per mask with the EMA model; see {@link #sample(Sisma, ImageSpace, List, int, long, Sampler, int, double)}. */
    public List<float[]> sample(List<Mask> masks, int perMask, long seed, double cfgScale) {
        return sample(ema, space, masks, perMask, seed, sampler, sampleSteps, cfgScale);
    }

    /**
     * Samples {@code perMask} images for each mask (one batch), as CHW arrays (about [-1, 1]) at the
     * config's image size: a latent model's samples decoded by {@code space}, one at a time.
     * Sample k of every mask starts from the noise of seed {@code seed + k} (Philox), so one seed
     * gives the same images again and the masks of a sheet share their noise.
     */
    public static List<float[]> sample(Sisma model, ImageSpace space, List<Mask> masks, int perMask, long seed, Sampler sampler,
                                       int steps, double cfgScale) {
        SismaConfig config = model.config();
        Backend backend = model.backend();
        List<float[]> out = new ArrayList<>();
        int n = masks.size() * perMask, c = config.inChannels(), s = config.inputSize(), size = config.imageSize();
        try (Scope scope = Scope.open(); NoGrad ng = NoGrad.enter()) {
            List<Mask> rep = new ArrayList<>();
            for (Mask m : masks) {
                for (int k = 0; k < perMask; k++) {
                    rep.add(m.resizeNearest(size, size));
                }
            }
            Tensor mask = Batches.oneHot(backend, rep, config.maskClasses());
            float[] noise = new float[n * c * s * s];
            int per = c * s * s;
            for (int i = 0; i < n; i++) {
                long key = Batches.key(seed + (i % perMask), Batches.STREAM_SAMPLES);
                for (int j = 0; j < per; j++) {
                    noise[i * per + j] = Philox.normalAt(key, 0, j);
                }
            }
            Tensor x0 = Tensor.of(backend, noise, n, c, s, s);
            Tensor x = sampler.sample((xt, tt, cfg) -> model.forwardWithCfg(xt, Tensor.full(backend, tt, n), mask, cfg),
                    x0, steps, cfgScale, Progress.NONE);
            if (!space.isLatent()) {
                float[] all = x.toArray();
                for (int i = 0; i < n; i++) {
                    out.add(java.util.Arrays.copyOfRange(all, i * per, (i + 1) * per));
                }
            } else {
                for (int i = 0; i < n; i++) {
                    try (Scope one = Scope.open()) {
                        out.add(space.decode(dev.sisma.engine.Ops.slice(x, 0, i, i + 1)).toArray());
                    }
                }
            }
        }
        return out;
    }

    @Override
    public void writeSamples(Path png, long step) throws IOException {
        if (validationMasks.isEmpty()) {
            return;
        }
        List<float[]> imgs = sample(validationMasks, samplesPerMask, 0, 1.0);
        writeSheet(png, validationMasks, imgs, samplesPerMask, config.imageSize());
    }

    /** A sheet: one row per mask, the mask in colour, then its samples. */
    public static void writeSheet(Path png, List<Mask> masks, List<float[]> imgs, int perMask, int size) throws IOException {
        List<BufferedImage> tiles = new ArrayList<>();
        for (int m = 0; m < masks.size(); m++) {
            tiles.add(MaskColours.render(masks.get(m)));
            for (int k = 0; k < perMask; k++) {
                tiles.add(Images.fromChw(imgs.get(m * perMask + k), size, size));
            }
        }
        int tile = Math.max(size, 64);
        ImageFiles.writePng(Sheets.grid(tiles, perMask + 1, tile, 2, 0xFFFFFF), png);
    }

    @Override
    public void close() {
        model.close();
        ema.close();
    }
}
