package dev.sisma.engine.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.IntStream;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * The engine's speed figures as JSON, for {@code sisma bench} and {@code docs/benchmarks.md}:
 * GEMM GFLOPS in the Linear layout (x [M, K] times W [N, K] transposed, the model's hot path) at
 * 1024x1024x1024, 256x1024x4096 and 256x4096x1024 (M x N x K), and the selective scan forward and
 * backward at batch 1, length 256, channels 2048, state 16; on any backend, and for a backend on
 * host threads ({@link BackendThreads}) at 1 thread and at its configured count.
 * Each figure is the median of timed repetitions after a warm-up (JIT-cold kernels are ~30x slower).
 * JMH benchmarks of the CPU backend's kernels are in its {@code src/test/java/.../jmh}.
 */
public final class EngineBench {
    private EngineBench() {}

    /** GEMM sizes, M x N x K. */
    public static final int[][] GEMMS = {{1024, 1024, 1024}, {256, 1024, 4096}, {256, 4096, 1024}};
    /** Scan size: B, L, E, N. */
    public static final int[] SCAN = {1, 256, 2048, 16};

    /**
     * Runs every benchmark on backends made by {@code threads}, at 1 thread and at its configured
     * count (once when that is 1), about {@code secondsPerCase} of timing each; returns JSON.
     */
    public static String run(BackendThreads threads, double secondsPerCase) {
        List<String> rows = new ArrayList<>();
        for (int n : IntStream.of(1, threads.threads()).distinct().toArray()) {
            rows.addAll(threads.withThreads(n, be -> rows(be, n, secondsPerCase)));
        }
        return json(threads.name(), rows);
    }

    /** Runs every benchmark on any backend (threads are the backend's own business: reported as 0). */
    public static String run(Backend backend, double secondsPerCase) {
        return json(backend.name(), rows(backend, 0, secondsPerCase));
    }

    private static String json(String engine, List<String> rows) {
        return "{\n  \"engine\": \"" + engine + "\",\n  \"java\": \"" + System.getProperty("java.version")
                + "\",\n  \"cores\": " + Runtime.getRuntime().availableProcessors() + ",\n  \"results\": [\n"
                + String.join(",\n", rows) + "\n  ]\n}";
    }

    private static List<String> rows(Backend be, int threads, double secondsPerCase) {
        List<String> rows = new ArrayList<>();
        String device = be.device().replace("\\", "\\\\").replace("\"", "\\\"");
        for (int[] g : GEMMS) {
            double s = gemmSeconds(be, g[0], g[1], g[2], secondsPerCase);
            double gflops = 2.0 * g[0] * g[1] * g[2] / s / 1e9;
            rows.add(String.format(Locale.ROOT,
                    "    {\"op\": \"gemm\", \"m\": %d, \"n\": %d, \"k\": %d, \"threads\": %d, \"device\": \"%s\", \"ms\": %.3f, \"gflops\": %.1f}",
                    g[0], g[1], g[2], threads, device, s * 1e3, gflops));
        }
        double[] scan = scanSeconds(be, SCAN[0], SCAN[1], SCAN[2], SCAN[3], secondsPerCase);
        rows.add(String.format(Locale.ROOT,
                "    {\"op\": \"scan\", \"b\": %d, \"l\": %d, \"e\": %d, \"n\": %d, \"threads\": %d, \"device\": \"%s\", \"forward_ms\": %.3f, \"backward_ms\": %.3f}",
                SCAN[0], SCAN[1], SCAN[2], SCAN[3], threads, device, scan[0] * 1e3, scan[1] * 1e3));
        return rows;
    }

    private static DeviceBuffer random(Backend be, long n, long seed, float scale, float shift) {
        DeviceBuffer b = be.allocate(n);
        be.randomUniform(b, n, seed, 0);
        be.affine(b, b, n, scale, shift);
        return b;
    }

    /** Median seconds of one x W^T GEMM (M x N x K). */
    public static double gemmSeconds(Backend be, int m, int n, int k, double seconds) {
        try (DeviceBuffer a = random(be, (long) m * k, 1, 2, -1); DeviceBuffer w = random(be, (long) n * k, 2, 2, -1);
             DeviceBuffer c = be.allocate((long) m * n)) {
            return median(() -> {
                be.gemm(false, true, 1, m, n, k, 1f, a, 0, w, 0, 0f, c, null);
                sync(be, c);
            }, seconds);
        }
    }

    /** Median seconds of the scan forward and backward. */
    public static double[] scanSeconds(Backend be, int b, int l, int e, int n, double seconds) {
        long ble = (long) b * l * e, bln = (long) b * l * n;
        try (DeviceBuffer u = random(be, ble, 1, 2, -1); DeviceBuffer dt = random(be, ble, 2, 0.1f, 0.001f);
             DeviceBuffer a = random(be, (long) e * n, 3, -1, -0.1f); DeviceBuffer bm = random(be, bln, 4, 2, -1);
             DeviceBuffer cm = random(be, bln, 5, 2, -1); DeviceBuffer d = random(be, e, 6, 1, 0.5f);
             DeviceBuffer y = be.allocate(ble); DeviceBuffer dy = random(be, ble, 7, 2, -1);
             DeviceBuffer du = be.allocate(ble); DeviceBuffer ddt = be.allocate(ble); DeviceBuffer da = be.allocate((long) e * n);
             DeviceBuffer dbm = be.allocate(bln); DeviceBuffer dcm = be.allocate(bln); DeviceBuffer dd = be.allocate(e)) {
            double f = median(() -> {
                be.selectiveScan(u, dt, a, bm, cm, d, y, b, l, e, n);
                sync(be, y);
            }, seconds);
            double g = median(() -> {
                be.selectiveScanBackward(u, dt, a, bm, cm, d, dy, du, ddt, da, dbm, dcm, dd, b, l, e, n);
                sync(be, du);
            }, seconds);
            return new double[] {f, g};
        }
    }

    /** A one-float download: the SPI's way to wait for a queued (GPU) backend; free on the CPU. */
    private static void sync(Backend be, DeviceBuffer b) {
        be.download(b, 0, new float[1], 0, 1);
    }

    private static double median(Runnable r, double seconds) {
        long warmEnd = System.nanoTime() + (long) (seconds * 0.5e9);
        int warm = 0;
        while (warm < 3 || System.nanoTime() < warmEnd) { r.run(); warm++; }
        List<Double> times = new ArrayList<>();
        long end = System.nanoTime() + (long) (seconds * 1e9);
        while (times.size() < 5 || (System.nanoTime() < end && times.size() < 1000)) {
            long t0 = System.nanoTime();
            r.run();
            times.add((System.nanoTime() - t0) / 1e9);
        }
        double[] s = times.stream().mapToDouble(Double::doubleValue).toArray();
        Arrays.sort(s);
        return s[s.length / 2];
    }
}
