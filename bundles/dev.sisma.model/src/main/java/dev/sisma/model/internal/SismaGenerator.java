package dev.sisma.model.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.SamplingDefaults;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.mask.Mask;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.engine.Backends;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.BundledModels;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.ImageSpace;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Sampler;

/**
 * The {@link Generator} service: mask -> one-hot at the model's image size -> sampler -> images
 * (a latent model's samples decoded by its autoencoder). Ships the {@link BundledModels}; keeps the
 * last model it loaded (the editor generates again and again with the same one) for the same file,
 * autoencoder, backend and weight format (a request's, else {@link Checkpoints#defaultWeightFormat()}).
 */
@Component(service = Generator.class)
public final class SismaGenerator implements Generator {
    private final Backends backends;
    private final List<Sampler> samplers = new CopyOnWriteArrayList<>();
    private volatile Autoencoders autoencoders;
    private Loaded loaded;   // guarded by this
    private final BundledModels bundled = new BundledModels();

    private record Loaded(Path file, long modified, Path vae, Backend backend, WeightFormat weights, Sisma model, ImageSpace space) {
        void close() {
            space.close();
            model.close();
        }
    }

    @Activate
    public SismaGenerator(@Reference Backends backends) {
        this.backends = backends;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addSampler(Sampler s) {
        samplers.add(s);
    }

    void removeSampler(Sampler s) {
        samplers.remove(s);
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setAutoencoders(Autoencoders a) {
        autoencoders = a;
    }

    void unsetAutoencoders(Autoencoders a) {
        if (autoencoders == a) {
            autoencoders = null;
        }
    }

    @Override
    public List<String> models() {
        return BundledModels.NAMES;
    }

    @Override
    public Optional<Path> model(String name) {
        return BundledModels.isName(name) ? Optional.of(bundled.path(name)) : Optional.empty();
    }

    @Deactivate
    synchronized void deactivate() throws IOException {
        if (loaded != null) {
            loaded.close();
            loaded = null;
        }
        bundled.close();
    }

    @Override
    public List<String> samplers() {
        TreeSet<String> names = new TreeSet<>();
        samplers.forEach(s -> names.add(s.name()));
        return List.copyOf(names);
    }

    /**
     * The config's sampler, steps and guidance, read from the checkpoint's metadata. Does not wait for
     * a running {@link #generate} (a user interface asks on its UI thread).
     */
    @Override
    public Optional<SamplingDefaults> defaults(Path checkpoint) {
        Path file = checkpoint != null ? checkpoint : bundled.path(BundledModels.DEFAULT);
        SismaConfig cfg;
        try (dev.sisma.engine.io.SafeTensorsFile f = Checkpoints.open(file)) {
            cfg = Checkpoints.configOf(f);
        }
        if (cfg == null) {
            throw new InputException(file + ": no model config in the metadata (key " + Checkpoints.CONFIG_KEY + ")");
        }
        return Optional.of(defaultsOf(cfg));
    }

    /** What {@link #generate} fills in where a request leaves sampler, steps or guidance open. */
    public static SamplingDefaults defaultsOf(SismaConfig cfg) {
        return new SamplingDefaults(cfg.sampler(), cfg.sampleSteps(), cfg.cfgScale());
    }

    @Override
    public synchronized List<GeneratedImage> generate(GenerationRequest asked, Progress progress) {
        Backend backend = backend(asked.backend());
        Loaded l = model(asked.checkpoint(), asked.vae(), backend,
                asked.weights() != null ? asked.weights() : Checkpoints.defaultWeightFormat());
        SismaConfig cfg = l.model().config();
        GenerationRequest request = asked.withDefaults(defaultsOf(cfg));
        Sampler sampler = samplers.stream().filter(s -> s.name().equals(request.sampler())).findFirst()
                .orElseThrow(() -> new InputException("unknown sampler '" + request.sampler() + "'; available: " + samplers()));
        return generate(l.model(), l.space(), sampler, request, progress);
    }

    /** The sampling itself, for a pixel-space model at hand (also used without OSGi). */
    public static List<GeneratedImage> generate(Sisma model, Sampler sampler, GenerationRequest request, Progress progress) {
        if (model.config().space() != SismaConfig.Space.PIXEL) {
            throw new InputException("model config " + model.config().name() + " works in the latents of autoencoder "
                    + model.config().autoencoder() + "; pass its ImageSpace");
        }
        return generate(model, ImageSpace.pixel(model.config()), sampler, request, progress);
    }

    /**
     * The sampling itself, for a model and its image space at hand (also used without OSGi): noise
     * of the model's shape, the sampler, then the space's decoder; images at the config's image size.
     */
    public static List<GeneratedImage> generate(Sisma model, ImageSpace space, Sampler sampler, GenerationRequest request,
                                                Progress progress) {
        SismaConfig cfg = model.config();
        Backend be = model.backend();
        int n = request.samples(), size = cfg.imageSize(), c = 3;
        try (Scope scope = Scope.open()) {
            Tensor oneHot = oneHot(be, request.mask().resizeNearest(size, size), cfg.maskClasses());   // [1, 19, S, S]
            Tensor masks = Ops.broadcastTo(oneHot, dev.sisma.engine.Shape.of(n, cfg.maskClasses(), size, size)); // [n, 19, S, S]
            Tensor[] noise = new Tensor[n];
            for (int i = 0; i < n; i++) {
                // sample i depends on its own seed only, so it can be regenerated alone
                noise[i] = Tensor.randn(be, request.seed() + i, 0, 1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
            }
            Tensor x0 = n == 1 ? noise[0] : Ops.concat(0, noise);                                      // [n, C, H, W]
            Tensor x = sampler.sample(model.velocityField(masks), x0, request.steps(), request.cfgScale(), progress);
            float[] v = decode(space, x, cfg.inChannels());
            x.close();
            List<GeneratedImage> out = new ArrayList<>(n);
            int plane = size * size;
            for (int i = 0; i < n; i++) {
                int[] rgb = new int[plane];
                for (int p = 0; p < plane; p++) {
                    int base = i * c * plane + p;
                    int r = toByte(v[base]), g = toByte(v[base + plane]), b = toByte(v[base + 2 * plane]);
                    rgb[p] = r << 16 | g << 8 | b;
                }
                out.add(new GeneratedImage(request.seed() + i, size, size, rgb));
            }
            return out;
        }
    }

    /**
     * The samples [n, C, s, s] as images [n, 3, S, S] in a flat array: decoded by a latent space's
     * autoencoder one sample at a time (its activations at 256x256 are large); in pixel space the
     * samples themselves, a 1-channel model's grey repeated.
     */
    private static float[] decode(ImageSpace space, Tensor x, int channels) {
        if (!space.isLatent()) {
            float[] v = x.toArray();
            if (channels == 3) {
                return v;
            }
            int n = x.dim(0), plane = x.dim(2) * x.dim(3);
            float[] rgb = new float[n * 3 * plane];
            for (int i = 0; i < n; i++) {
                for (int k = 0; k < 3; k++) {
                    System.arraycopy(v, i * channels * plane + Math.min(k, channels - 1) * plane, rgb, (i * 3 + k) * plane, plane);
                }
            }
            return rgb;
        }
        int n = x.dim(0);
        float[] out = null;
        for (int i = 0; i < n; i++) {
            try (Scope s = Scope.open()) {
                float[] img = space.decode(Ops.slice(x, 0, i, i + 1)).toArray();
                if (out == null) {
                    out = new float[n * img.length];
                }
                System.arraycopy(img, 0, out, i * img.length, img.length);
            }
        }
        return out;
    }

    /** [-1, 1] to 0..255. */
    private static int toByte(float x) {
        float u = (x + 1f) * 127.5f;
        return u <= 0 ? 0 : u >= 255 ? 255 : Math.round(u);
    }

    /** A mask as one-hot [1, classes, H, W]. */
    public static Tensor oneHot(Backend be, Mask mask, int classes) {
        int w = mask.width(), h = mask.height();
        float[] v = new float[classes * w * h];
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                v[mask.classAt(x, y) * w * h + y * w + x] = 1f;
            }
        }
        return Tensor.of(be, v, 1, classes, h, w);
    }

    private Backend backend(String name) {
        Optional<Backend> b = name == null ? backends.current() : backends.byName(name);
        return b.orElseThrow(() -> new InputException(name == null ? "no compute backend is registered"
                : "compute backend '" + name + "' is not registered; available: "
                        + backends.all().stream().map(Backend::name).toList()));
    }

    private Loaded model(Path checkpoint, Path vae, Backend backend, WeightFormat weights) {
        Path file = checkpoint != null ? checkpoint : bundled.path(BundledModels.DEFAULT);
        long modified;
        try {
            modified = Files.getLastModifiedTime(file).toMillis();
        } catch (IOException e) {
            throw new InputException(file + ": cannot read checkpoint: " + (e instanceof java.nio.file.NoSuchFileException ? "no such file" : e.getMessage()));
        }
        if (loaded != null && loaded.file().equals(file) && loaded.modified() == modified && java.util.Objects.equals(loaded.vae(), vae)
                && loaded.backend() == backend && loaded.weights() == weights) {
            return loaded;
        }
        if (loaded != null) {
            loaded.close();
            loaded = null;
        }
        Sisma m = Checkpoints.loadModel(file, null, backend, weights);
        ImageSpace space;
        try {
            space = ImageSpace.open(m.config(), autoencoders, vae == null ? null : vae.toString(), file.toAbsolutePath().getParent(), backend);
        } catch (RuntimeException e) {
            m.close();
            throw e instanceof InputException ie && m.config().space() == SismaConfig.Space.LATENT
                    ? new InputException(file + ": " + ie.getMessage(), ie) : e;
        }
        loaded = new Loaded(file, modified, vae, backend, weights, m, space);
        return loaded;
    }
}
