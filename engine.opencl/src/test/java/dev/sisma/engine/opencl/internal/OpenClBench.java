package dev.sisma.engine.opencl.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;

import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * A plain benchmark (not a test): GEMM GFLOPS at the three shapes (m x n x k) and the
 * selective scan forward and backward at batch 1, length 256, channels 2048, state 16, for the
 * OpenCL backend and, in the same run, the CPU backend (all cores), printed as JSON with the ratio.
 * Best of several timed runs after warm-up; a 1-float download ends each run (the OpenCL queue
 * is asynchronous). Run: {@code java -cp <test classpath> dev.sisma.engine.opencl.internal.OpenClBench [reps]}.
 */
public final class OpenClBench {
    private OpenClBench() {}

    private static final int[][] GEMMS = {{1024, 1024, 1024}, {256, 1024, 4096}, {256, 4096, 1024}};

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<String> rows = new ArrayList<>();
        try (OpenClBackend ocl = OpenClBackend.open(-1, -1); CpuBackend cpu = new CpuBackend()) {
            double[] o = measure(ocl, reps), c = measure(cpu, reps);
            String[] names = {"gemm_1024x1024x1024_gflops", "gemm_256x1024x4096_gflops", "gemm_256x4096x1024_gflops",
                    "scan_fwd_b1_l256_e2048_n16_ms", "scan_bwd_b1_l256_e2048_n16_ms"};
            for (int i = 0; i < names.length; i++) {
                double ratio = i < 3 ? o[i] / c[i] : c[i] / o[i]; // > 1: OpenCL faster
                rows.add(String.format(Locale.ROOT, "    \"%s\": {\"opencl\": %.2f, \"cpu\": %.2f, \"opencl_speed_vs_cpu\": %.3f}",
                        names[i], o[i], c[i], ratio));
            }
            System.out.println("{\n  \"opencl_device\": \"" + ocl.device().replace("\"", "'") + "\",\n  \"cpu_device\": \""
                    + cpu.device() + "\",\n  \"results\": {\n" + String.join(",\n", rows) + "\n  }\n}");
        }
    }

    private static void sync(Backend be, DeviceBuffer b) {
        be.download(b, 0, new float[1], 0, 1);
    }

    static double[] measure(Backend be, int reps) {
        double[] out = new double[5];
        Random r = new Random(1);
        for (int g = 0; g < GEMMS.length; g++) {
            int m = GEMMS[g][0], n = GEMMS[g][1], k = GEMMS[g][2];
            try (DeviceBuffer a = be.upload(rnd(r, m * k)); DeviceBuffer b = be.upload(rnd(r, k * n)); DeviceBuffer c = be.allocate((long) m * n)) {
                double best = Double.MAX_VALUE;
                for (int i = 0; i < reps + 2; i++) {
                    long t0 = System.nanoTime();
                    be.gemm(false, false, 1, m, n, k, 1f, a, 0, b, 0, 0f, c, null);
                    sync(be, c);
                    if (i >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
                }
                out[g] = 2.0 * m * n * k / best / 1e9;
            }
        }
        int l = 256, e = 2048, n = 16, ble = l * e, bln = l * n;
        List<DeviceBuffer> bufs = new ArrayList<>();
        try {
            DeviceBuffer u = add(bufs, be.upload(rnd(r, ble))), delta = add(bufs, be.upload(pos(r, ble))),
                    a = add(bufs, be.upload(neg(r, e * n))), bm = add(bufs, be.upload(rnd(r, bln))), cm = add(bufs, be.upload(rnd(r, bln))),
                    d = add(bufs, be.upload(rnd(r, e))), y = add(bufs, be.allocate(ble)), dy = add(bufs, be.upload(rnd(r, ble))),
                    du = add(bufs, be.allocate(ble)), dd = add(bufs, be.allocate(ble)), da = add(bufs, be.allocate(e * n)),
                    db = add(bufs, be.allocate(bln)), dc = add(bufs, be.allocate(bln)), dD = add(bufs, be.allocate(e));
            double fwd = Double.MAX_VALUE, bwd = Double.MAX_VALUE;
            for (int i = 0; i < reps + 2; i++) {
                long t0 = System.nanoTime();
                be.selectiveScan(u, delta, a, bm, cm, d, y, 1, l, e, n);
                sync(be, y);
                long t1 = System.nanoTime();
                be.selectiveScanBackward(u, delta, a, bm, cm, d, dy, du, dd, da, db, dc, dD, 1, l, e, n);
                sync(be, du);
                long t2 = System.nanoTime();
                if (i >= 2) {
                    fwd = Math.min(fwd, (t1 - t0) / 1e6);
                    bwd = Math.min(bwd, (t2 - t1) / 1e6);
                }
            }
            out[3] = fwd;
            out[4] = bwd;
        } finally {
            bufs.forEach(DeviceBuffer::close);
        }
        return out;
    }

    private static DeviceBuffer add(List<DeviceBuffer> l, DeviceBuffer b) {
        l.add(b);
        return b;
    }

    private static float[] rnd(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = r.nextFloat() * 2 - 1;
        return x;
    }

    private static float[] pos(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = 0.001f + 0.1f * r.nextFloat();
        return x;
    }

    private static float[] neg(Random r, int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = -1 - 15 * r.nextFloat();
        return x;
    }
}
