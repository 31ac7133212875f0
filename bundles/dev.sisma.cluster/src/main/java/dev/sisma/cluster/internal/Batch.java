package dev.sisma.cluster.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.ProgressLine;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.data.image.ImageFiles;

/**
 * {@code sisma sample --masks DIR --out DIR --cluster NAME}: every mask of a folder, spread over
 * the cluster's workers. This process joins as a lite member (it holds none of the cluster's data
 * and runs no job), checks every mask, puts one job per mask whose outputs are not all there yet
 * into the queue, and writes each result as it arrives: every file to a temporary name, renamed
 * into place, and a file that exists already is left as it is, so a job that ran twice (its
 * worker was thought dead) still gives each output once, and a rerun skips what is done.
 */
final class Batch {
    static final Set<String> OPTIONS = Set.of("--masks", "--out", "--samples", "--seed", "--steps", "--sampler", "--cfg", "--model",
            "--checkpoint", "--vae", "--backend", WeightFormat.OPTION);
    static final String USAGE = """
              --masks DIR       folder of class-index, colour or CelebAMask-HQ part mask PNGs
              --out DIR         where the samples go: <mask>-s<seed>.png (made if missing)
              --samples N       images per mask (default 4; seeds S, S+1, ...)
              --seed S          first seed (default 0, so that a rerun finds the outputs of the first)
              --steps K, --sampler NAME, --cfg X, --backend NAME: as for generate
              --model M         a bundled model (demo-32, demo-256) or a checkpoint FILE at the same path on every worker
              --vae FILE        the autoencoder weights a latent model decodes with, at the same path on every worker
              --weights F       Linear weights as f32, bf16 or f16 on every worker (default: each worker's --weights)
            """;
    private static final long POLL_MILLIS = 200;
    private static final long SWEEP_NANOS = 10_000_000_000L;

    private final ClusterNode node;
    private final CommandContext ctx;

    Batch(ClusterNode node, CommandContext ctx) {
        this.node = node;
        this.ctx = ctx;
    }

    /** The options every worker reads, checked here first. */
    static Map<String, String> jobOptions(Args a, CommandContext ctx) {
        Map<String, String> o = new LinkedHashMap<>();
        int samples = a.getInt("--samples", 4);
        if (samples < 1 || samples > 256) {
            throw new UsageException("--samples must be 1..256, got " + samples);
        }
        o.put("samples", Integer.toString(samples));
        o.put("seed", Long.toString(a.getLong("--seed", 0)));
        if (a.has("--steps")) {
            int steps = a.getInt("--steps", 0);
            if (steps < 1 || steps > 10_000) {
                throw new UsageException("--steps must be 1..10000, got " + steps);
            }
            o.put("steps", Integer.toString(steps));
        }
        o.put("sampler", a.get("--sampler", null));
        if (a.has("--cfg")) {
            double cfg = a.getDouble("--cfg", Double.NaN);
            if (!(cfg >= 0) || Double.isInfinite(cfg)) {
                throw new UsageException("--cfg must be a finite number >= 0, got " + cfg);
            }
            o.put("cfg", Double.toString(cfg));
        }
        if (a.has("--model") && a.has("--checkpoint")) {
            throw new UsageException("--model and --checkpoint name the same thing; give one");
        }
        String m = a.get("--model", a.get("--checkpoint", null));
        if (m != null) {
            boolean file = a.has("--checkpoint") || m.endsWith(".safetensors") || m.contains("/") || Files.exists(ctx.resolve(m));
            o.put(file ? "checkpoint" : "model", file ? ctx.resolve(m).toString() : m);
        }
        if (a.has("--vae")) {
            o.put("vae", ctx.resolve(a.required("--vae")).toString());
        }
        o.put("backend", a.get("--backend", null));
        WeightFormat weights = WeightFormat.option(a.get(WeightFormat.OPTION, null));
        o.put("weights", weights == null ? null : weights.id());
        return o;
    }

    /** The files a mask's job writes. */
    static List<Path> outputs(Path out, String name, Map<String, String> o) {
        long seed = Long.parseLong(o.get("seed"));
        List<Path> files = new ArrayList<>();
        for (int i = 0; i < Integer.parseInt(o.get("samples")); i++) {
            files.add(out.resolve(name + "-s" + (seed + i) + ".png"));
        }
        return files;
    }

    /** Per-worker tallies for the report. */
    private static final class Tally {
        int jobs;
        double seconds;
    }

    /** Queues {@code jobs} (name to index-PNG mask) and writes the results into {@code out}; returns the failed count. */
    int run(Map<String, byte[]> jobs, Map<String, String> options, Path out, int total) throws IOException, InterruptedException {
        PrintStreamProgress progress = new PrintStreamProgress(ProgressLine.forStderr(ctx.err()));
        boolean said = false;
        while (node.workers().isEmpty()) {
            if (!said) {
                ctx.err().printf("sisma sample: waiting for a worker to join cluster '%s' (sisma worker --cluster %s)%n",
                        node.options.name(), node.options.name());
                said = true;
            }
            Thread.sleep(POLL_MILLIS);
        }
        String batch = node.submit(options, jobs);
        List<String> keys = jobs.keySet().stream().map(name -> ClusterNode.key(batch, name)).toList();
        ctx.err().printf("sisma sample: %d mask(s) queued on cluster '%s' for %d worker(s); the queue is held by %s%n", keys.size(),
                node.options.name(), node.workers().size(), node.queueOwner());
        ctx.err().flush();
        Thread cleanup = new Thread(() -> node.forget(batch, keys), "sisma-sample-cleanup");
        Runtime.getRuntime().addShutdownHook(cleanup);
        Set<String> pending = new HashSet<>(keys);
        Map<String, Tally> perWorker = new TreeMap<>();
        int failed = 0;
        int doneBefore = total - jobs.size();
        long t0 = System.nanoTime();
        com.hazelcast.collection.IQueue<String> finished = node.finished(batch);
        long sweep = System.nanoTime();
        try {
            while (!pending.isEmpty()) {
                Set<String> ready = new HashSet<>();
                String first = finished.poll(POLL_MILLIS, java.util.concurrent.TimeUnit.MILLISECONDS);
                if (first != null) {
                    ready.add(first);
                    finished.drainTo(ready);
                }
                // A worker that died between putting its result and saying so: now and then every pending job is looked at.
                if (System.nanoTime() - sweep > SWEEP_NANOS) {
                    ready.addAll(pending);
                    sweep = System.nanoTime();
                }
                ready.retainAll(pending);
                Map<String, byte[]> got = ready.isEmpty() ? Map.of() : node.results.getAll(ready);
                for (Map.Entry<String, byte[]> e : got.entrySet()) {
                    Codec.Result r = Codec.result(e.getValue());
                    String name = ClusterNode.nameOf(e.getKey());
                    Tally t = perWorker.computeIfAbsent(r.worker(), w -> new Tally());
                    t.jobs++;
                    t.seconds += r.seconds();
                    if (r.failed()) {
                        failed++;
                        ctx.err().printf("sisma sample: %s: %s (on %s)%n", name, r.error(), r.worker());
                    } else {
                        for (int i = 0; i < r.pngs().size(); i++) {
                            Path file = out.resolve(name + "-s" + r.seeds().get(i) + ".png");
                            if (!Files.exists(file)) {
                                byte[] png = r.pngs().get(i);
                                ImageFiles.writeAtomically(file, o -> o.write(png));
                            }
                            ctx.out().println(file);
                        }
                    }
                    pending.remove(e.getKey());
                    node.masks.delete(e.getKey());
                    node.results.delete(e.getKey());
                }
                int done = total - pending.size();
                double secs = (System.nanoTime() - t0) / 1e9;
                double rate = (done - doneBefore) / Math.max(secs, 1e-9);
                progress.line(String.format("[%d/%d] %d worker(s), %.2f masks/s, ETA %s", done, total, node.workers().size(), rate,
                        rate > 0 ? String.format("%.0f s", pending.size() / rate) : "?"), pending.isEmpty());
            }
        } finally {
            node.forget(batch, pending);
            try {
                Runtime.getRuntime().removeShutdownHook(cleanup);
            } catch (IllegalStateException e) {
                // shutting down: the hook runs
            }
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        ctx.out().printf("sisma sample: %d mask(s) in %.1f s on cluster '%s': %.2f masks/s%s%n", jobs.size(), secs, node.options.name(),
                jobs.size() / secs, failed > 0 ? ", " + failed + " failed" : "");
        for (Map.Entry<String, Tally> e : perWorker.entrySet()) {
            Tally t = e.getValue();
            ctx.out().printf("  worker %s: %d mask(s), %.2f masks/s over the run, %.2f s per mask%n", e.getKey(), t.jobs, t.jobs / secs,
                    t.seconds / t.jobs);
        }
        return failed;
    }

    /** The progress line (rewritten on a terminal, every few seconds in a log). */
    private record PrintStreamProgress(ProgressLine line) {
        void line(String text, boolean last) {
            if (line.due(last)) {
                line.print(text, last);
            }
        }
    }
}
