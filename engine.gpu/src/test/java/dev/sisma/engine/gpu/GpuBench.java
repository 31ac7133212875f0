package dev.sisma.engine.gpu;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * The GPU backends' benchmark pieces (engine.opencl's OpenClBench, engine.cuda's CudaBench; plain
 * mains, not tests): GEMM GFLOPS at given shapes and the selective scan forward and backward at
 * batch 1, length 256, channels 2048, state 16. Best of several timed runs after two warm-ups; a
 * 1-float download ends each run (the GPU queues are asynchronous).
 */
public final class GpuBench {
    private GpuBench() {}

    /** The OpenCL report's shapes (m x n x k). */
    public static final int[][] GEMMS = {{1024, 1024, 1024}, {256, 1024, 4096}, {256, 4096, 1024}};

    /** GFLOPS of C = A B (m x k times k x n, no transposes) on {@code be}, best of {@code reps}. */
    public static double gemmGflops(Backend be, int m, int n, int k, int reps) {
        Random r = new Random(1);
        try (DeviceBuffer a = be.upload(rnd(r, m * k)); DeviceBuffer b = be.upload(rnd(r, k * n)); DeviceBuffer c = be.allocate((long) m * n)) {
            double best = Double.MAX_VALUE;
            for (int i = 0; i < reps + 2; i++) {
                long t0 = System.nanoTime();
                be.gemm(false, false, 1, m, n, k, 1f, a, 0, b, 0, 0f, c, null);
                sync(be, c);
                if (i >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e9);
            }
            return 2.0 * m * n * k / best / 1e9;
        }
    }

    /** Waits for every queued call on {@code b}'s backend (a blocking 1-float download). */
    public static void sync(Backend be, DeviceBuffer b) {
        be.download(b, 0, new float[1], 0, 1);
    }

    /** {forward ms, backward ms} of the selective scan at batch 1, length 256, channels 2048, state 16. */
    public static double[] scanMs(Backend be, int reps) {
        Random r = new Random(1);
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
            return new double[] {fwd, bwd};
        } finally {
            bufs.forEach(DeviceBuffer::close);
        }
    }

    private static DeviceBuffer add(List<DeviceBuffer> l, DeviceBuffer b) {
        l.add(b);
        return b;
    }

    public static float[] rnd(Random r, int n) {
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
