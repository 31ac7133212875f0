package dev.sisma.train.internal;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.ProgressLine;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.mask.Mask;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Datasets;
import dev.sisma.data.dataset.Split;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.ImageSpace;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.Samplers;
import dev.sisma.train.checkpoint.Checkpoint;
import dev.sisma.train.optim.AdamWSettings;

/** {@code sisma train}: flow-matching training of a SISMA config on a dataset, with checkpoints and exact resume. */
@Component(service = Command.class)
public final class TrainCommand implements Command {
    static final Set<String> VALUED = Set.of("--config", "--data", "--out", "--steps", "--batch", "--lr", "--seed", "--backend",
            "--checkpoint-every", "--checkpoint-minutes", "--sample-every", "--log-every", "--warmup", "--weight-decay", "--clip", "--ema",
            "--data-count", "--vae", "--latent-cache");
    static final Set<String> FLAGS = Set.of("--resume", "--no-ema-warmup");
    /** How long a SIGTERM or Ctrl-C waits for the current step and its checkpoint. */
    static final Duration STOP_WAIT = Duration.ofMinutes(5);
    /** Validation grid: this many held-out masks, this many samples each. */
    static final int GRID_MASKS = 4, GRID_SAMPLES = 4;

    /** Where a run keeps its latent cache unless --latent-cache says otherwise (inside the run folder). */
    static final String LATENT_CACHE = "latent-cache";

    private final Backends backends;
    private final Datasets datasets;
    private final Autoencoders autoencoders;

    @Activate
    public TrainCommand(@Reference Backends backends, @Reference Datasets datasets, @Reference Autoencoders autoencoders) {
        this.backends = backends;
        this.datasets = datasets;
        this.autoencoders = autoencoders;
    }

    /** Without autoencoders: pixel-space configs only. */
    public TrainCommand(Backends backends, Datasets datasets) {
        this(backends, datasets, null);
    }

    @Override
    public String name() {
        return "train";
    }

    @Override
    public String summary() {
        return "train a SISMA model with flow matching (checkpoints, exact resume, metrics, sample grids)";
    }

    @Override
    public String usage() {
        return """
                usage: sisma train --config NAME|FILE --data synthetic|PATH --out RUN_DIR [--resume]
                                   [--steps N] [--batch B] [--lr X] [--seed S] [--backend NAME]
                                   [--checkpoint-every N] [--checkpoint-minutes M] [--sample-every N] [--log-every N]
                                   [--warmup N] [--weight-decay X] [--clip X] [--ema X] [--no-ema-warmup]
                                   [--data-count N] [--vae FILE] [--latent-cache DIR]
                  Trains with rectified-flow matching (logit-normal t, AdamW, global-norm clipping, EMA).
                  --config       a named config (sisma-L/2, sisma-B/2, sisma-S/2, demo, demo-256) or a JSON file;
                                 a latent config (space: latent) trains on the latents of its autoencoder
                                 (autoencoder: taef2, built in; sd-vae, from --vae FILE), whose latent
                                 channels and downscale set in_channels/out_channels and input_size
                  --data         'synthetic' (procedural faces), a CelebAMask-HQ folder, or NAME:PATH
                  --out          the run folder: checkpoint.safetensors (latest), ema.safetensors (EMA
                                 weights, at the end), metrics.jsonl, loss.png, samples/step-N.png
                  --resume       continue the run in --out exactly where its checkpoint stopped (config and
                                 settings come from the checkpoint; --steps may raise the total)
                  --steps        total optimizer steps (default 150000)    --batch    samples per step (8)
                  --lr           peak learning rate (1e-4; the paper prints 4e-3)
                  --seed         root of every random number (0)           --backend  compute backend
                  --checkpoint-every N (1000)   --checkpoint-minutes M  also at least every M minutes (10; 0: off)
                  --sample-every N (1000; 0: only at the end)   --log-every N (10)
                  SIGTERM or Ctrl-C finishes the current step, writes a checkpoint and exits: --resume goes on.
                  --warmup N     linear warm-up steps (0)   --weight-decay X (0)   --clip X  max grad norm (1.0; 0: off)
                  --ema X        EMA decay (0.9999)   --no-ema-warmup  use the decay from step 1
                  --data-count N number of synthetic samples (synthetic data only)
                  --vae FILE     the autoencoder's weights (safetensors) for a config whose autoencoder ships none
                  --latent-cache DIR  where each image's latent is kept once encoded (default RUN_DIR/latent-cache;
                                 share one folder between runs on the same data; keyed by autoencoder, weights
                                 and image size, so a change re-encodes)""";
    }

    @Override
    public int run(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, VALUED, FLAGS);
        Path out = ctx.resolve(a.required("--out"));
        boolean resume = a.has("--resume");
        PrintStream o = ctx.out();

        SismaConfig config;
        TrainSettings settings;
        String dataSpec;
        String dataCount = null;
        String vae = a.get("--vae", null);
        String cacheDir = a.get("--latent-cache", null);
        if (resume) {
            Path ckpt = out.resolve(Trainer.CHECKPOINT);
            if (!Files.exists(ckpt)) {
                throw new InputException(ckpt + ": no checkpoint to resume from");
            }
            Checkpoint.Header h = Checkpoint.readHeader(ckpt);
            if (h.configJson() == null) {
                throw new InputException(ckpt + ": metadata " + Checkpoint.KEY_CONFIG + " (the model config) is missing");
            }
            config = SismaConfig.parse(h.configJson(), ckpt + " (metadata " + Checkpoint.KEY_CONFIG + ")");
            if (a.has("--config")) {
                SismaConfig given = SismaConfig.resolve(a.get("--config", null), ctx.workingDirectory());
                if (!given.toJson().equals(config.toJson())) {
                    throw new InputException(ckpt + ": was trained with config " + config.name() + ", which differs from --config "
                            + a.get("--config", null) + " (leave --config out to resume)");
                }
            }
            settings = TrainSettings.fromMetadata(h.metadata(), ckpt.toString());
            dataSpec = a.has("--data") ? a.get("--data", null) : h.metadata().getOrDefault("train.data", "synthetic");
            if (a.has("--data-count")) {
                throw new UsageException("--data-count cannot change on --resume (the run would no longer continue exactly)");
            }
            dataCount = h.metadata().get("train.data_count");
            if (vae == null) {
                vae = h.metadata().get("train.vae");
            }
            if (cacheDir == null) {
                cacheDir = h.metadata().get("train.latent_cache");
            }
            settings = override(a, settings, true);
            if (settings.steps() <= h.step()) {
                o.printf("%s is at step %d of %d; nothing to do (raise --steps to train further)%n", ckpt, h.step(), settings.steps());
                return 0;
            }
        } else {
            config = SismaConfig.resolve(a.required("--config"), ctx.workingDirectory());
            dataSpec = a.required("--data");
            settings = override(a, TrainSettings.defaults(), false);
            dataCount = a.get("--data-count", null);
        }

        Backend backend = backend(a.get("--backend", null));
        Autoencoder ae = null;
        if (config.space() == SismaConfig.Space.LATENT) {
            ae = ImageSpace.openAutoencoder(config, autoencoders, vae, ctx.workingDirectory(), backend);
            SismaConfig fitted = ImageSpace.fitTo(config, ae);
            if (fitted != config && resume) {
                ae.close();
                throw new InputException(out.resolve(Trainer.CHECKPOINT) + ": config " + config.name() + " does not fit autoencoder "
                        + ae.name() + " (" + ae.latentChannels() + " latent channels, downscale " + ae.downscale() + ")");
            }
            if (fitted != config) {
                o.printf("config %s: in_channels/out_channels %d, input_size %d from autoencoder %s%n", config.name(),
                        fitted.inChannels(), fitted.inputSize(), ae.name());
            }
            config = fitted;
        }
        try (ImageSpace space = ae == null ? ImageSpace.pixel(config) : ImageSpace.latent(config, ae); Autoencoder owned = ae) {
            return train(a, ctx, out, resume, config, settings, dataSpec, dataCount, vae,
                    ctx.resolve(cacheDir != null ? cacheDir : out.resolve(LATENT_CACHE).toString()), cacheDir, backend, space);
        }
    }

    private int train(Args a, CommandContext ctx, Path out, boolean resume, SismaConfig config, TrainSettings settings,
                      String dataSpec, String dataCount, String vae, Path latentCache, String cacheDir, Backend backend,
                      ImageSpace space) throws Exception {
        PrintStream o = ctx.out();
        Map<String, String> dataOptions = dataCount != null ? Map.of("count", dataCount) : Map.of();
        Dataset train = datasets.open(dataSpec, ctx.workingDirectory(), Split.TRAIN, settings.seed(), dataOptions);
        Dataset held = datasets.open(dataSpec, ctx.workingDirectory(), Split.TEST, settings.seed(), Map.of());
        List<Mask> grid = new ArrayList<>();
        for (int i = 0; i < Math.min(GRID_MASKS, held.size()); i++) {
            grid.add(held.mask(i, config.imageSize()));
        }
        Sampler sampler = Samplers.byName(config.sampler()).orElseThrow(() -> new InputException(
                "config " + config.name() + ": field sampler: unknown sampler '" + config.sampler() + "' (known: "
                        + String.join(", ", Samplers.names()) + ")"));
        boolean tty = ProgressLine.isTerminal(ProgressLine.STDOUT_TERMINAL);
        TrainSettings s = settings;
        try (SismaTask task = new SismaTask(config, backend, train, grid, GRID_SAMPLES, sampler, config.sampleSteps(), space,
                latentCache)) {
            Map<String, String> md = new java.util.LinkedHashMap<>();
            md.put("train.data", dataSpec);
            if (dataCount != null) {
                md.put("train.data_count", dataCount);
            }
            if (vae != null) {
                md.put("train.vae", vae);
            }
            if (cacheDir != null) {
                md.put("train.latent_cache", cacheDir);
            }
            try (StopOnSignal stop = StopOnSignal.install(ctx.err(), STOP_WAIT, tty)) {
                Trainer trainer = new Trainer(task, s, out, o, tty, md).stopWhen(stop);
                Trainer.Result r = trainer.run(resume);
                if (r.stopped()) {
                    o.printf(Locale.ROOT, "stopped: steps %d..%d in %s, loss %.4f (smoothed %.4f); checkpoint %s at step %d;"
                                    + " continue with: sisma train --resume --out %s%n",
                            r.startStep() + 1, r.endStep(), Trainer.duration(Math.round(r.seconds())), r.lastLoss(),
                            r.smoothedLoss(), out.resolve(Trainer.CHECKPOINT), r.endStep(), out);
                    o.flush();
                    return 130;
                }
                o.printf(Locale.ROOT, "done: steps %d..%d in %s, final loss %.4f (smoothed %.4f); EMA weights in %s%n",
                        r.startStep() + 1, r.endStep(), Trainer.duration(Math.round(r.seconds())), r.lastLoss(), r.smoothedLoss(),
                        out.resolve(Trainer.EMA_WEIGHTS));
            }
        }
        return 0;
    }

    /** The settings with the command line's values; on resume only what may change is taken. */
    static TrainSettings override(Args a, TrainSettings s, boolean resume) {
        try {
            if (a.has("--steps")) s = s.withSteps(a.getLong("--steps", 0));
            if (a.has("--checkpoint-every")) s = s.withCheckpointEvery(a.getLong("--checkpoint-every", 0));
            if (a.has("--checkpoint-minutes")) s = s.withCheckpointMinutes(a.getDouble("--checkpoint-minutes", 0));
            if (a.has("--sample-every")) s = s.withSampleEvery(a.getLong("--sample-every", 0));
            if (a.has("--log-every")) s = s.withLogEvery(a.getLong("--log-every", 0));
            if (resume) {
                for (String fixed : List.of("--batch", "--lr", "--seed", "--warmup", "--weight-decay", "--clip", "--ema", "--no-ema-warmup")) {
                    if (a.has(fixed)) {
                        throw new UsageException(fixed + " cannot change on --resume (the run would no longer continue exactly)");
                    }
                }
                return s;
            }
            if (a.has("--batch")) s = s.withBatch(a.getInt("--batch", 0));
            if (a.has("--seed")) s = s.withSeed(a.getLong("--seed", 0));
            AdamWSettings o = s.optim();
            if (a.has("--lr")) o = o.withLr(a.getDouble("--lr", 0));
            if (a.has("--warmup")) o = o.withWarmupSteps(a.getLong("--warmup", 0));
            if (a.has("--weight-decay")) o = o.withWeightDecay(a.getDouble("--weight-decay", 0));
            if (a.has("--clip")) o = o.withMaxGradNorm(a.getDouble("--clip", 0));
            s = s.withOptim(o);
            if (a.has("--ema") || a.has("--no-ema-warmup")) s = s.withEma(a.getDouble("--ema", s.emaDecay()), !a.has("--no-ema-warmup"));
            return s;
        } catch (UsageException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    private Backend backend(String name) {
        if (name == null) {
            return backends.current().orElseThrow(() -> new InputException("no compute backend is registered (see sisma info)"));
        }
        return backends.byName(name).orElseThrow(() -> new InputException("backend '" + name + "' is not registered; available: "
                + String.join(", ", backends.all().stream().map(Backend::name).toList()) + " (see sisma info)"));
    }
}
