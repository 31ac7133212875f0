package dev.sisma.train.internal;

import java.util.LinkedHashMap;
import java.util.Map;

import dev.sisma.api.cli.InputException;
import dev.sisma.train.optim.AdamWSettings;

/**
 * Everything about a training run that is not the model: written into every checkpoint's
 * metadata ({@code train.*} keys) so {@code --resume} continues with the same values.
 *
 * @param steps           total optimizer steps of the run
 * @param batch           samples per step
 * @param seed            the root of every random number (Philox keyed by (seed, step))
 * @param checkpointEvery steps between checkpoints (one is also written at the end)
 * @param checkpointMinutes  at most this many minutes between checkpoints (0: only by steps); a
 *                        stopped run (SIGTERM, Ctrl-C) writes one too
 * @param sampleEvery     steps between EMA sample grids (0: only at the end)
 * @param logEvery        steps between metrics lines and progress updates
 * @param emaDecay        EMA decay (0.9999 by default)
 * @param emaWarmup       EMA decay ramps as (1 + k) / (10 + k) up to emaDecay
 */
public record TrainSettings(long steps, int batch, long seed, AdamWSettings optim, long checkpointEvery,
                            double checkpointMinutes, long sampleEvery, long logEvery, double emaDecay, boolean emaWarmup) {
    /** Minutes between time-based checkpoints unless told otherwise (also for checkpoints from before the setting). */
    public static final double DEFAULT_CHECKPOINT_MINUTES = 10;

    public TrainSettings {
        if (steps <= 0) throw new IllegalArgumentException("steps must be positive, got " + steps);
        if (batch <= 0) throw new IllegalArgumentException("batch must be positive, got " + batch);
        if (checkpointEvery <= 0) throw new IllegalArgumentException("checkpoint-every must be positive, got " + checkpointEvery);
        if (!(checkpointMinutes >= 0) || Double.isInfinite(checkpointMinutes)) {
            throw new IllegalArgumentException("checkpoint-minutes must be a finite number >= 0, got " + checkpointMinutes);
        }
        if (sampleEvery < 0) throw new IllegalArgumentException("sample-every must be >= 0, got " + sampleEvery);
        if (logEvery <= 0) throw new IllegalArgumentException("log-every must be positive, got " + logEvery);
        if (!(emaDecay >= 0 && emaDecay <= 1)) throw new IllegalArgumentException("ema decay must be in [0, 1], got " + emaDecay);
    }

    /** The spec's training defaults: batch 8, AdamW lr 1e-4, no weight decay, EMA 0.9999; 150k steps. */
    public static TrainSettings defaults() {
        return new TrainSettings(150_000, 8, 0, AdamWSettings.defaults(), 1000, DEFAULT_CHECKPOINT_MINUTES, 1000, 10, 0.9999, true);
    }

    public TrainSettings withSteps(long v) { return new TrainSettings(v, batch, seed, optim, checkpointEvery, checkpointMinutes, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withBatch(int v) { return new TrainSettings(steps, v, seed, optim, checkpointEvery, checkpointMinutes, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withSeed(long v) { return new TrainSettings(steps, batch, v, optim, checkpointEvery, checkpointMinutes, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withOptim(AdamWSettings v) { return new TrainSettings(steps, batch, seed, v, checkpointEvery, checkpointMinutes, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withCheckpointEvery(long v) { return new TrainSettings(steps, batch, seed, optim, v, checkpointMinutes, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withCheckpointMinutes(double v) { return new TrainSettings(steps, batch, seed, optim, checkpointEvery, v, sampleEvery, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withSampleEvery(long v) { return new TrainSettings(steps, batch, seed, optim, checkpointEvery, checkpointMinutes, v, logEvery, emaDecay, emaWarmup); }
    public TrainSettings withLogEvery(long v) { return new TrainSettings(steps, batch, seed, optim, checkpointEvery, checkpointMinutes, sampleEvery, v, emaDecay, emaWarmup); }
    public TrainSettings withEma(double decay, boolean warmup) { return new TrainSettings(steps, batch, seed, optim, checkpointEvery, checkpointMinutes, sampleEvery, logEvery, decay, warmup); }

    /** As checkpoint metadata. */
    public Map<String, String> toMetadata() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("train.steps", Long.toString(steps));
        m.put("train.batch", Integer.toString(batch));
        m.put("train.seed", Long.toString(seed));
        m.put("train.lr", Double.toString(optim.lr()));
        m.put("train.beta1", Double.toString(optim.beta1()));
        m.put("train.beta2", Double.toString(optim.beta2()));
        m.put("train.eps", Double.toString(optim.eps()));
        m.put("train.weight_decay", Double.toString(optim.weightDecay()));
        m.put("train.warmup_steps", Long.toString(optim.warmupSteps()));
        m.put("train.max_grad_norm", Double.toString(optim.maxGradNorm()));
        m.put("train.checkpoint_every", Long.toString(checkpointEvery));
        m.put("train.checkpoint_minutes", Double.toString(checkpointMinutes));
        m.put("train.sample_every", Long.toString(sampleEvery));
        m.put("train.log_every", Long.toString(logEvery));
        m.put("train.ema_decay", Double.toString(emaDecay));
        m.put("train.ema_warmup", Boolean.toString(emaWarmup));
        return m;
    }

    /** From checkpoint metadata; {@code file} names the checkpoint in errors. */
    public static TrainSettings fromMetadata(Map<String, String> m, String file) {
        try {
            AdamWSettings o = new AdamWSettings(d(m, "train.lr", file), d(m, "train.beta1", file), d(m, "train.beta2", file),
                    d(m, "train.eps", file), d(m, "train.weight_decay", file), l(m, "train.warmup_steps", file),
                    d(m, "train.max_grad_norm", file));
            return new TrainSettings(l(m, "train.steps", file), (int) l(m, "train.batch", file), l(m, "train.seed", file), o,
                    l(m, "train.checkpoint_every", file),
                    m.containsKey("train.checkpoint_minutes") ? d(m, "train.checkpoint_minutes", file) : DEFAULT_CHECKPOINT_MINUTES,
                    l(m, "train.sample_every", file), l(m, "train.log_every", file),
                    d(m, "train.ema_decay", file), Boolean.parseBoolean(get(m, "train.ema_warmup", file)));
        } catch (InputException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            throw new InputException(file + ": bad training settings in the metadata: " + e.getMessage());
        }
    }

    private static String get(Map<String, String> m, String k, String file) {
        String v = m.get(k);
        if (v == null) throw new InputException(file + ": metadata " + k + " is missing");
        return v;
    }

    private static double d(Map<String, String> m, String k, String file) {
        String v = get(m, k, file);
        try {
            return Double.parseDouble(v);
        } catch (NumberFormatException e) {
            throw new InputException(file + ": metadata " + k + " is not a number: '" + v + "'");
        }
    }

    private static long l(Map<String, String> m, String k, String file) {
        String v = get(m, k, file);
        try {
            return Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new InputException(file + ": metadata " + k + " is not an integer: '" + v + "'");
        }
    }
}
