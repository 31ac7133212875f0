package dev.sisma.server.internal;

import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * {@code sisma serve --bench}: N clients drive a server on a loopback port, each sending M jobs
 * (the masks of synthetic dataset samples) as fast as the queue takes them (a 429 waits its
 * Retry-After and sends again), then waiting for each; prints throughput, submit-to-done latency
 * percentiles and the 429 count, with the machine's load average.
 */
final class LoadBench {
    record Options(int clients, int jobs, int steps, int samples) {
    }

    private final String base;
    private final Options o;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final AtomicLong refused = new AtomicLong();

    LoadBench(String base, Options options) {
        this.base = base;
        this.o = options;
    }

    /** Runs the load; true when every job was done. */
    boolean run(PrintStream out) throws Exception {
        String loadBefore = loadAverage();
        out.printf("serve bench: %d clients x %d jobs (%d sample%s, %d steps, demo model), %d CPUs, load average %s%n", o.clients, o.jobs,
                o.samples, o.samples == 1 ? "" : "s", o.steps, Runtime.getRuntime().availableProcessors(), loadBefore);
        out.flush();
        ExecutorService pool = Executors.newFixedThreadPool(o.clients);
        long t0 = System.nanoTime();
        List<Future<List<Long>>> futures = new ArrayList<>();
        for (int c = 0; c < o.clients; c++) {
            int client = c;
            futures.add(pool.submit(() -> client(client)));
        }
        List<Long> latencies = new ArrayList<>();
        int failed = 0;
        try {
            for (Future<List<Long>> f : futures) {
                for (long l : f.get()) {
                    if (l < 0) {
                        failed++;
                    } else {
                        latencies.add(l);
                    }
                }
            }
        } finally {
            pool.shutdownNow();
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        Collections.sort(latencies);
        out.printf("serve bench: %d done, %d failed in %.1f s: %.2f jobs/s, %.1f steps/s; submit-to-done latency p50 %.0f ms, p95 %.0f ms,"
                + " p99 %.0f ms, max %.0f ms; %d refused with 429 (sent again after Retry-After); load average after %s%n",
                latencies.size(), failed, seconds, latencies.size() / seconds, latencies.size() * (double) o.steps * o.samples / seconds,
                pct(latencies, 0.50), pct(latencies, 0.95), pct(latencies, 0.99), pct(latencies, 1.0), refused.get(), loadAverage());
        return failed == 0;
    }

    /** One client: submits all its jobs, then waits for each; latencies in nanoseconds, -1 for a job that did not finish done. */
    private List<Long> client(int client) throws Exception {
        List<long[]> sent = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (int j = 0; j < o.jobs; j++) {
            long start = System.nanoTime();
            String body = Json.write(Map.of("dataset", "synthetic", "index", client * o.jobs + j, "steps", o.steps, "samples", o.samples,
                    "seed", j));
            while (true) {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/jobs")).timeout(Duration.ofSeconds(60))
                        .header("Content-Type", "application/json").header("X-Sisma-Client", "bench-" + client)
                        .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 202) {
                    ids.add((String) ((Map<?, ?>) Json.parse(r.body())).get("id"));
                    sent.add(new long[] {start});
                    break;
                }
                if (r.statusCode() != 429) {
                    throw new IOException("submit answered " + r.statusCode() + ": " + r.body());
                }
                refused.incrementAndGet();
                long wait = r.headers().firstValue("Retry-After").map(Long::parseLong).orElse(1L);
                Thread.sleep(Math.min(wait, 5) * 1000);
            }
        }
        List<Long> latencies = new ArrayList<>();
        for (int i = 0; i < ids.size(); i++) {
            String state = awaitEnd(ids.get(i));
            latencies.add(state.equals("done") ? System.nanoTime() - sent.get(i)[0] : -1L);
        }
        return latencies;
    }

    private String awaitEnd(String id) throws Exception {
        while (true) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "api/jobs/" + id)).timeout(Duration.ofSeconds(60)).GET()
                    .build(), HttpResponse.BodyHandlers.ofString());
            String state = (String) ((Map<?, ?>) Json.parse(r.body())).get("state");
            if (state.equals("done") || state.equals("failed") || state.equals("cancelled")) {
                return state;
            }
            Thread.sleep(50);
        }
    }

    private static double pct(List<Long> sorted, double p) {
        return sorted.isEmpty() ? Double.NaN : sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size()))) / 1e6;
    }

    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg"), StandardCharsets.US_ASCII).trim().split(" ");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }
}
