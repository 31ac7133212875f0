package dev.sisma.train.internal;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Locale;
import java.util.function.BooleanSupplier;
import java.util.function.LongSupplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.ProgressLine;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.train.checkpoint.Checkpoint;
import dev.sisma.train.optim.AdamW;
import dev.sisma.train.optim.Ema;
import dev.sisma.train.optim.WeightDecayRule;

/**
 * The training loop: loss, backward, clip, AdamW step, EMA update; checkpoints, a JSONL metrics
 * log, a loss-curve PNG and EMA sample grids in the run folder.
 *
 * <p>Run folder: {@value #CHECKPOINT} (the latest checkpoint, replaced atomically),
 * {@value #EMA_WEIGHTS} (EMA weights under the model's names, written at the end),
 * {@value #METRICS}, {@value #LOSS_PNG}, {@code samples/step-NNNNNNN.png}.
 *
 * <p>Checkpoints come every {@code checkpointEvery} steps, at least every {@code checkpointMinutes}
 * minutes, at the end, and when {@link #stopWhen the stop request} says so at a step boundary (then
 * the run ends there; {@code --resume} continues it exactly).
 *
 * <p>Steady state allocates nothing that outlives a step: each step's tensors live in one
 * {@link Scope}, the optimizer and EMA work in buffers made once, the loss history is bounded
 * ({@link LossSeries}).
 */
public final class Trainer {
    public static final String CHECKPOINT = "checkpoint.safetensors";
    public static final String EMA_WEIGHTS = "ema.safetensors";
    public static final String METRICS = "metrics.jsonl";
    public static final String LOSS_PNG = "loss.png";

    /** The outcome of {@link #run}. */
    /** The outcome of {@link #run}; {@code stopped}: the stop request ended it at {@code endStep}, before the total. */
    public record Result(long startStep, long endStep, double lastLoss, double smoothedLoss, double seconds, boolean stopped) {}

    private final TrainingTask task;
    private final TrainSettings settings;
    private final Path runDir;
    private final PrintStream out;
    private final boolean tty;
    private final Map<String, String> metadata;
    private LongSupplier clock = System::nanoTime;
    private BooleanSupplier stopRequested = () -> false;

    public Trainer(TrainingTask task, TrainSettings settings, Path runDir, PrintStream out, boolean tty) {
        this(task, settings, runDir, out, tty, Map.of());
    }

    /** @param extraMetadata more checkpoint metadata (e.g. the data spec, for resume) */
    public Trainer(TrainingTask task, TrainSettings settings, Path runDir, PrintStream out, boolean tty,
                   Map<String, String> extraMetadata) {
        this.metadata = new LinkedHashMap<>(settings.toMetadata());
        this.metadata.putAll(extraMetadata);
        this.task = task;
        this.settings = settings;
        this.runDir = runDir;
        this.out = out;
        this.tty = tty;
    }

    /** The monotonic clock (nanoseconds) for time-based checkpoints, progress lines and rates; tests pass their own. */
    public Trainer clock(LongSupplier nanoTime) {
        this.clock = nanoTime;
        return this;
    }

    /**
     * Polled after every step: true writes a checkpoint at that step and ends the run there (a
     * SIGTERM or Ctrl-C; see {@link StopOnSignal}).
     */
    public Trainer stopWhen(BooleanSupplier request) {
        this.stopRequested = request;
        return this;
    }

    /** Trains from scratch, or with {@code resume} from the run folder's checkpoint, up to {@code settings.steps()}. */
    public Result run(boolean resume) throws IOException {
        Files.createDirectories(runDir);
        Path ckpt = runDir.resolve(CHECKPOINT);
        if (!resume && Files.exists(ckpt)) {
            throw new InputException(runDir + ": already holds a checkpoint (" + CHECKPOINT
                    + "); use --resume to continue it, or another --out");
        }
        if (resume && !Files.exists(ckpt)) {
            throw new InputException(ckpt + ": no checkpoint to resume from");
        }
        try (AdamW optim = new AdamW(task.parameters(), settings.optim(), WeightDecayRule.SISMA)) {
            Ema ema = new Ema(task.parameters(), task.emaParameters(), settings.emaDecay(), settings.emaWarmup());
            long start = 0;
            if (resume) {
                Checkpoint.Header h = Checkpoint.load(ckpt, task.parameters(), ema, optim);
                start = h.step();
            }
            LossSeries series = new LossSeries();
            Path metricsFile = runDir.resolve(METRICS);
            restoreMetrics(metricsFile, start, series);
            if (!task.describe().isEmpty()) {
                out.println(task.describe());
            }
            out.printf(Locale.ROOT, "training %s steps %d..%d, batch %d, lr %s, seed %d -> %s%n",
                    resume ? "(resumed)" : "", start + 1, settings.steps(), settings.batch(),
                    LossPlot.format(settings.optim().lr()), settings.seed(), runDir);
            return loop(optim, ema, start, series, metricsFile);
        }
    }

    private Result loop(AdamW optim, Ema ema, long start, LossSeries series, Path metricsFile) throws IOException {
        long total = settings.steps();
        long t0 = clock.getAsLong(), lastLogTime = t0, lastCheckpointTime = t0;
        long checkpointNanos = Math.round(settings.checkpointMinutes() * 60e9);
        ProgressLine progressLine = new ProgressLine(out, tty, ProgressLine.DEFAULT_INTERVAL, clock);
        long lastLogStep = start;
        double lastLoss = Double.NaN, smoothed = Double.NaN, intervalLoss = 0;
        int intervalCount = 0;
        long plotEvery = Math.max(settings.logEvery() * 10, 50);
        try (BufferedWriter metrics = Files.newBufferedWriter(metricsFile, StandardCharsets.UTF_8,
                StandardOpenOption.CREATE, StandardOpenOption.APPEND)) {
            for (long step = start + 1; step <= total; step++) {
                float loss;
                try (Scope scope = Scope.open()) {
                    Tensor l = task.loss(step, settings.seed(), settings.batch());
                    loss = l.item();
                    if (!Float.isFinite(loss)) {
                        throw new IllegalStateException("the loss is " + loss + " at step " + step
                                + " (lower --lr, or resume from the last checkpoint)");
                    }
                    l.backward();
                }
                AdamW.StepResult r = optim.step();
                optim.zeroGrad();
                ema.update();
                lastLoss = loss;
                smoothed = Double.isNaN(smoothed) ? loss : smoothed + 0.02 * (loss - smoothed);
                intervalLoss += loss;
                intervalCount++;
                series.add(step, loss);
                long now = clock.getAsLong();
                double itPerS = (step - start) / Math.max(1e-9, (now - t0) / 1e9);
                metrics.write(String.format(Locale.ROOT,
                        "{\"step\":%d,\"loss\":%.6g,\"lr\":%.6g,\"grad_norm\":%.6g,\"it_per_s\":%.4g,\"time_s\":%.3f}%n",
                        step, loss, r.lr(), r.gradNorm(), itPerS, (now - t0) / 1e9));
                boolean last = step == total;
                boolean stop = !last && stopRequested.getAsBoolean();
                if (step % settings.logEvery() == 0 || last || stop) {
                    metrics.flush();
                    if (progressLine.due(last)) {
                        double rate = (step - lastLogStep) / Math.max(1e-9, (now - lastLogTime) / 1e9);
                        progressLine.print(progress(step, total, intervalLoss / intervalCount, smoothed, r, rate, itPerS), last);
                        lastLogStep = step;
                        lastLogTime = now;
                        intervalLoss = 0;
                        intervalCount = 0;
                    }
                }
                boolean timed = checkpointNanos > 0 && now - lastCheckpointTime >= checkpointNanos;
                boolean checkpoint = step % settings.checkpointEvery() == 0 || last || timed || stop;
                if (checkpoint) {
                    metrics.flush();
                    Checkpoint.save(runDir.resolve(CHECKPOINT), task.parameters(), ema, optim, step, settings.seed(),
                            task.configJson(), metadata);
                    lastCheckpointTime = clock.getAsLong();
                }
                if (stop) {
                    progressLine.finish();
                    LossPlot.write(series, "flow-matching loss, " + runDir.getFileName(), runDir.resolve(LOSS_PNG));
                    return new Result(start, step, lastLoss, smoothed, (clock.getAsLong() - t0) / 1e9, true);
                }
                if (step % plotEvery == 0 || checkpoint) {
                    LossPlot.write(series, "flow-matching loss, " + runDir.getFileName(), runDir.resolve(LOSS_PNG));
                }
                if ((settings.sampleEvery() > 0 && step % settings.sampleEvery() == 0) || last) {
                    task.writeSamples(runDir.resolve("samples").resolve(String.format("step-%07d.png", step)), step);
                }
            }
        }
        if (start < total) {
            Checkpoint.saveWeights(runDir.resolve(EMA_WEIGHTS), ema.shadows(),
                    Map.of("format", "sisma-weights", Checkpoint.KEY_CONFIG, task.configJson(), "step", Long.toString(total),
                            "source", "EMA weights of " + runDir.resolve(CHECKPOINT).getFileName()));
        }
        double secs = (clock.getAsLong() - t0) / 1e9;
        return new Result(start, Math.max(start, total), lastLoss, smoothed, secs, false);
    }

    private static String progress(long step, long total, double loss, double smoothed, AdamW.StepResult r, double rate,
                                   double avgRate) {
        long eta = avgRate > 0 ? Math.round((total - step) / avgRate) : 0;
        return String.format(Locale.ROOT, "step %d/%d  loss %.4f (smoothed %.4f)  lr %.2e  |g| %.3f%s  %.2f it/s  ETA %s",
                step, total, loss, smoothed, r.lr(), r.gradNorm(), r.clipped() ? " (clipped)" : "", rate, duration(eta));
    }

    static String duration(long s) {
        if (s >= 3600) {
            return String.format(Locale.ROOT, "%dh%02dm", s / 3600, (s % 3600) / 60);
        }
        return String.format(Locale.ROOT, "%dm%02ds", s / 60, s % 60);
    }

    private static final Pattern STEP = Pattern.compile("\"step\":(\\d+)");
    private static final Pattern LOSS = Pattern.compile("\"loss\":([-+0-9.eEInfinityNa]+)");

    /**
     * Keeps the metrics lines up to {@code step} (a resumed run repeats the later ones) and
     * refills the loss history from them; a fresh run starts an empty log.
     */
    private static void restoreMetrics(Path file, long step, LossSeries series) throws IOException {
        if (!Files.exists(file)) {
            return;
        }
        List<String> kept = new ArrayList<>();
        if (step > 0) {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                Matcher s = STEP.matcher(line), l = LOSS.matcher(line);
                if (s.find() && l.find()) {
                    long k = Long.parseLong(s.group(1));
                    if (k <= step) {
                        kept.add(line);
                        try {
                            series.add(k, Double.parseDouble(l.group(1)));
                        } catch (NumberFormatException e) {
                            // a hand-edited line; the plot just misses it
                        }
                    }
                }
            }
        }
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp");
        Files.write(tmp, kept, StandardCharsets.UTF_8);
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }
}
