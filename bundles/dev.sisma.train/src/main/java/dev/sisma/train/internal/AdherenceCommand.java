package dev.sisma.train.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Sample;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.synth.SyntheticDataset;
import dev.sisma.engine.Backends;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.Checkpoints;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.model.BundledModels;
import dev.sisma.model.ImageSpace;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.Samplers;

/**
 * {@code sisma adherence}: does a model follow the mask? Samples held-out synthetic masks (the
 * test split, never trained on) under several seeds and reports the {@link MaskAdherence} pixel
 * accuracy, the same score for the real images (the ceiling) and for mismatched masks (the floor),
 * and how much the samples of one mask differ between seeds.
 */
@Component(service = Command.class)
public final class AdherenceCommand implements Command {
    private final Backends backends;
    private final Autoencoders autoencoders;

    @Activate
    public AdherenceCommand(@Reference Backends backends, @Reference Autoencoders autoencoders) {
        this.backends = backends;
        this.autoencoders = autoencoders;
    }

    @Override
    public String name() {
        return "adherence";
    }

    @Override
    public String summary() {
        return "measure how well a model's samples follow held-out synthetic masks (pixel accuracy, diversity)";
    }

    @Override
    public String usage() {
        return """
                usage: sisma adherence [--model demo-32|demo-256|FILE] [--count N] [--seeds S] [--steps K] [--sampler NAME]
                                       [--data-seed D] [--batch B] [--sheet PNG] [--backend NAME]
                  Samples N held-out synthetic masks (test split of the synthetic faces, seed D; default 64, 0)
                  with S seeds each (default 2) and prints the mask adherence: per image, the mean colour of
                  each mask region; every pixel is classified to the region whose mean colour is nearest;
                  the score is the pixel accuracy against the mask. Also the score of the real images
                  (ceiling), of samples against another mask (floor), and the mean absolute difference
                  between samples of one mask under different seeds (diversity).
                  --model       a bundled model (demo-32, the default; demo-256) or weights / a training checkpoint
                                FILE (its EMA weights); --checkpoint FILE is the same
                  --steps K     sampler steps (default: the config's)   --sampler NAME (default: the config's)
                  --cfg X       classifier-free guidance scale (default: the config's; needs a null-mask model)
                  --sheet PNG   also write a sheet (mask | samples) of the first 8 masks""";
    }

    /** The measured numbers. */
    public record Result(int masks, int seeds, double adherence, double minAdherence, double realAdherence,
                         double mismatchedAdherence, double diversity, double minDiversity, double seconds) {}

    @Override
    public int run(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, Set.of("--model", "--checkpoint", "--count", "--seeds", "--steps", "--sampler", "--data-seed", "--batch",
                "--sheet", "--backend", "--cfg"), Set.of());
        int count = a.getInt("--count", 64), seeds = a.getInt("--seeds", 2), batch = a.getInt("--batch", 16);
        if (count < 2 || seeds < 2 || batch < 1) {
            throw new UsageException("--count and --seeds must be at least 2, --batch at least 1");
        }
        Backend backend = a.has("--backend")
                ? backends.byName(a.get("--backend", null)).orElseThrow(() -> new InputException("backend '" + a.get("--backend", null)
                        + "' is not registered (see sisma info)"))
                : backends.current().orElseThrow(() -> new InputException("no compute backend is registered (see sisma info)"));
        if (a.has("--model") && a.has("--checkpoint")) {
            throw new UsageException("--model and --checkpoint name the same thing; give one");
        }
        String spec = a.get("--model", a.get("--checkpoint", BundledModels.DEFAULT));
        try (BundledModels bundled = new BundledModels()) {
            Path file = BundledModels.isName(spec) ? bundled.path(spec) : ctx.resolve(spec);
            return run(a, ctx, file, backend, count, seeds, batch);
        }
    }

    private int run(Args a, CommandContext ctx, Path file, Backend backend, int count, int seeds, int batch) throws IOException {
        try (Sisma model = load(file, backend);
             ImageSpace space = ImageSpace.open(model.config(), autoencoders, null, ctx.workingDirectory(), backend)) {
            SismaConfig cfg = model.config();
            String samplerName = a.get("--sampler", cfg.sampler());
            Sampler sampler = Samplers.byName(samplerName).orElseThrow(() -> new UsageException("unknown sampler '" + samplerName
                    + "' (known: " + String.join(", ", Samplers.names()) + ")"));
            int steps = a.getInt("--steps", cfg.sampleSteps());
            double cfgScale = a.getDouble("--cfg", cfg.cfgScale());
            PrintStream o = ctx.out();
            o.printf(Locale.ROOT, "model %s from %s; %d held-out masks x %d seeds, %s %d steps, cfg %.2f, %s%n", cfg.name(), file,
                    count, seeds, sampler.name(), steps, cfgScale, backend.name());
            Result r = measure(model, space, a.getLong("--data-seed", 0), count, seeds, sampler, steps, cfgScale, batch,
                    a.has("--sheet") ? ctx.resolve(a.get("--sheet", null)) : null, o);
            o.printf(Locale.ROOT, "adherence %.4f (min per image %.4f); real images %.4f; against another mask %.4f%n",
                    r.adherence(), r.minAdherence(), r.realAdherence(), r.mismatchedAdherence());
            o.printf(Locale.ROOT, "diversity: mean |x_seed_a - x_seed_b| %.4f (min over masks %.4f; pixel range [-1, 1])%n",
                    r.diversity(), r.minDiversity());
            o.printf(Locale.ROOT, "took %.1f s%n", r.seconds());
        }
        return 0;
    }

    /** Measures a model on held-out synthetic masks; optionally writes a sheet of the first 8. */
    public static Result measure(Sisma model, ImageSpace space, long dataSeed, int count, int seeds, Sampler sampler, int steps, double cfgScale,
                                 int batch,
                                 Path sheet, PrintStream progress) throws IOException {
        long t0 = System.nanoTime();
        int size = model.config().imageSize();
        SyntheticDataset held = new SyntheticDataset(dataSeed, Split.TEST, Math.max(count, 1));
        List<Mask> masks = new ArrayList<>();
        double real = 0;
        for (int i = 0; i < count; i++) {
            Sample s = held.get(i, size);
            masks.add(s.mask());
            real += MaskAdherence.score(s.mask(), s.image());
        }
        // samples[seed][mask]
        List<List<float[]>> samples = new ArrayList<>();
        for (int k = 0; k < seeds; k++) {
            List<float[]> perSeed = new ArrayList<>();
            for (int from = 0; from < count; from += batch) {
                perSeed.addAll(SismaTask.sample(model, space, masks.subList(from, Math.min(count, from + batch)), 1, k, sampler, steps, cfgScale));
                if (progress != null) {
                    progress.printf("  seed %d: %d/%d masks%n", k, Math.min(count, from + batch), count);
                }
            }
            samples.add(perSeed);
        }
        double sum = 0, min = 1, mismatched = 0, div = 0, minDiv = Double.POSITIVE_INFINITY;
        for (int k = 0; k < seeds; k++) {
            for (int i = 0; i < count; i++) {
                double sc = MaskAdherence.score(masks.get(i), samples.get(k).get(i));
                sum += sc;
                min = Math.min(min, sc);
                mismatched += MaskAdherence.score(masks.get((i + 1) % count), samples.get(k).get(i));
            }
        }
        for (int i = 0; i < count; i++) {
            double d = 0;
            int pairs = 0;
            for (int k = 0; k < seeds; k++) {
                for (int l = k + 1; l < seeds; l++) {
                    d += meanAbsDiff(samples.get(k).get(i), samples.get(l).get(i));
                    pairs++;
                }
            }
            d /= pairs;
            div += d;
            minDiv = Math.min(minDiv, d);
        }
        if (sheet != null) {
            int rows = Math.min(8, count);
            List<Mask> sm = masks.subList(0, rows);
            List<float[]> imgs = new ArrayList<>();
            for (int i = 0; i < rows; i++) {
                for (int k = 0; k < seeds; k++) {
                    imgs.add(samples.get(k).get(i));
                }
            }
            SismaTask.writeSheet(sheet, sm, imgs, seeds, size);
        }
        int n = count * seeds;
        return new Result(count, seeds, sum / n, min, real / count, mismatched / n, div / count, minDiv,
                (System.nanoTime() - t0) / 1e9);
    }

    static double meanAbsDiff(float[] a, float[] b) {
        double s = 0;
        for (int i = 0; i < a.length; i++) {
            s += Math.abs(a[i] - b[i]);
        }
        return s / a.length;
    }

    /** A model from weights or a training checkpoint (whose EMA weights are used when present). */
    public static Sisma load(Path file, Backend backend) {
        try (SafeTensorsFile f = Checkpoints.open(file)) {
            SismaConfig cfg = Checkpoints.configOf(f);
            if (cfg == null) {
                throw new InputException(file + ": metadata " + Checkpoints.CONFIG_KEY + " (the model config) is missing");
            }
            Sisma model = new Sisma(cfg, backend);
            try {
                String first = model.namedParameters().keySet().iterator().next();
                Checkpoints.load(model, f, f.contains("ema." + first) ? "ema." : "");
                return model;
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
        }
    }
}
