package dev.sisma.cluster.internal;

import java.awt.image.BufferedImage;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.mask.MaskFiles;

/**
 * Takes jobs from the cluster's queue one at a time and runs them on this machine's generator.
 * While a job runs, a heartbeat renews its lease every third of the lease time; a renewal that
 * finds the lease gone (it ran out and the job went to another worker) cancels the job here at
 * its next sampler step. Results go into the cluster with {@code putIfAbsent}: when two workers
 * did the same job, the first result is the one kept.
 */
final class Worker {
    private final ClusterNode node;
    private final Generator generator;
    private final String backend;
    /** The format of the Linear weights for a job that names none, or null for the generator's default. */
    private final WeightFormat weights;
    private final PrintStream log;
    private final String name;
    private final ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sisma-worker-heartbeat");
        t.setDaemon(true);
        return t;
    });
    private volatile boolean stopping;
    int done;
    int failed;

    Worker(ClusterNode node, Generator generator, String backend, WeightFormat weights, PrintStream log) {
        this.node = node;
        this.generator = generator;
        this.backend = backend;
        this.weights = weights;
        this.log = log;
        this.name = node.address();
    }

    /** Asks the loop to stop: a running job is cancelled at its next step and queued again. */
    void stop() {
        stopping = true;
    }

    /** Runs jobs until {@link #stop()}. */
    void run() {
        try {
            while (!stopping) {
                String key;
                try {
                    key = node.take(name, 1000);
                } catch (RuntimeException e) {
                    if (stopping || !node.hz.getLifecycleService().isRunning()) {
                        break;
                    }
                    // A partition is moving (a member joined or left): try again.
                    pause(200);
                    continue;
                }
                if (key != null) {
                    runJob(key);
                }
            }
        } finally {
            heartbeat.shutdownNow();
        }
    }

    private void runJob(String key) {
        String[] lease = {node.leases.get(key)};
        if (lease[0] == null) {
            return;
        }
        byte[] maskPng = node.masks.get(key);
        String batch = node.batches.get(ClusterNode.batchOf(key));
        if (maskPng == null || batch == null) {
            // The batch was finished or given up by its coordinator: nothing to do.
            node.leases.remove(key, lease[0]);
            return;
        }
        boolean[] lost = {false};
        long period = Math.max(1000, node.options.leaseSeconds() * 1000L / 3);
        ScheduledFuture<?> beat = heartbeat.scheduleAtFixedRate(() -> {
            try {
                String next = node.lease(name);
                if (node.leases.replace(key, lease[0], next)) {
                    lease[0] = next;
                } else {
                    lost[0] = true;
                }
            } catch (RuntimeException e) {
                // the next beat tries again; the lease runs out if none gets through
            }
        }, period, period, TimeUnit.MILLISECONDS);
        long t0 = System.nanoTime();
        String jobName = ClusterNode.nameOf(key);
        log.println("sisma worker: started " + jobName);
        log.flush();
        byte[] result;
        try {
            List<GeneratedImage> images = generate(key, Codec.options(batch), maskPng, jobName, () -> lost[0] || stopping);
            List<Long> seeds = new ArrayList<>();
            List<byte[]> pngs = new ArrayList<>();
            for (GeneratedImage g : images) {
                BufferedImage img = new BufferedImage(g.width(), g.height(), BufferedImage.TYPE_INT_RGB);
                img.setRGB(0, 0, g.width(), g.height(), g.rgb(), 0, g.width());
                seeds.add(g.seed());
                pngs.add(Codec.png(img));
            }
            result = Codec.done(name, (System.nanoTime() - t0) / 1e9, seeds, pngs);
        } catch (CancellationException e) {
            beat.cancel(false);
            if (stopping && !lost[0]) {
                node.requeue(key, lease[0]);
                log.println("sisma worker: stopping; " + jobName + " goes back to the queue");
            } else {
                log.println("sisma worker: " + jobName + " was given to another worker (the lease ran out)");
            }
            return;
        } catch (RuntimeException | Error e) {
            String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage().lines().findFirst().orElse("");
            result = Codec.failed(name, (System.nanoTime() - t0) / 1e9, m);
        } finally {
            beat.cancel(false);
        }
        node.results.putIfAbsent(key, result);
        node.finished(ClusterNode.batchOf(key)).offer(key);
        node.leases.remove(key, lease[0]);
        node.progress.delete(key);
        double seconds = (System.nanoTime() - t0) / 1e9;
        if (Codec.result(result).failed()) {
            failed++;
            log.printf("sisma worker: %s failed: %s%n", jobName, Codec.result(result).error());
        } else {
            done++;
            log.printf("sisma worker: done %s in %.2f s%n", jobName, seconds);
        }
        log.flush();
    }

    /**
     * A job's weight format: the batch's ({@code sisma sample --cluster --weights}, or a server's
     * request) first, then the worker's {@code --weights}; null leaves it to the generator
     * ({@code -Dsisma.weights}, else f32).
     */
    static WeightFormat weights(Map<String, String> job, WeightFormat worker) {
        return job.containsKey("weights") ? WeightFormat.parse(job.get("weights")) : worker;
    }

    private List<GeneratedImage> generate(String key, Map<String, String> o, byte[] maskPng, String jobName, java.util.function.BooleanSupplier cancelled) {
        Mask mask = MaskFiles.fromImage(Path.of(jobName), Codec.image(maskPng), false).mask();
        Path modelFile = null;
        if (o.containsKey("model")) {
            String model = o.get("model");
            modelFile = generator.model(model).orElseThrow(() -> new IllegalArgumentException("unknown model '" + model
                    + "' on this worker; bundled: " + String.join(", ", generator.models())));
        } else if (o.containsKey("checkpoint")) {
            modelFile = existing(o.get("checkpoint"), "checkpoint");
        }
        Path vae = o.containsKey("vae") ? existing(o.get("vae"), "--vae") : null;
        String b = o.containsKey("backend") ? o.get("backend") : backend;
        GenerationRequest request = new GenerationRequest(mask, Integer.parseInt(o.get("samples")), Long.parseLong(o.get("seed")),
                Integer.parseInt(o.getOrDefault("steps", "0")), o.get("sampler"), Double.parseDouble(o.getOrDefault("cfg", "NaN")),
                modelFile, b, vae, weights(o, weights));
        return generator.generate(request, new Progress() {
            @Override
            public void step(int doneSteps, int total, double secondsPerStep) {
                // For whoever follows the job step by step (the HTTP server's progress events); a batch counts whole jobs.
                node.progress.setAsync(key, doneSteps + " " + total + " " + secondsPerStep);
            }

            @Override
            public boolean cancelled() {
                return cancelled.getAsBoolean();
            }
        });
    }

    /** A file the batch names, which must exist at the same path on every worker. */
    private static Path existing(String file, String what) {
        Path p = Path.of(file);
        if (!Files.isRegularFile(p)) {
            throw new IllegalArgumentException(what + " " + file + ": no such file on this worker (every worker needs it at the same path)");
        }
        return p;
    }

    private static void pause(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
