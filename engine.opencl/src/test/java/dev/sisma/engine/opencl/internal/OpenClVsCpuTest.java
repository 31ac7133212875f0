package dev.sisma.engine.opencl.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;
import dev.sisma.engine.testkit.RuntimeRequirement;

/**
 * The OpenCL backend against the CPU backend on the same inputs, at sizes that take the paths the
 * conformance suite's small sizes do not: several GEMM tiles, long rows (work-group reductions),
 * the scan with e >= 64 and the model's n = 16, batched conv2d weight gradients, more than six
 * non-mergeable copy dimensions. Tolerance: |ocl - cpu| <= 1e-4 (1 + |cpu|) unless stated (float32
 * with different summation orders).
 */
class OpenClVsCpuTest {
    private static OpenClBackend ocl;
    private static CpuBackend cpu;
    private final Random rnd = new Random(7);
    private final List<DeviceBuffer> buffers = new ArrayList<>();

    @BeforeAll
    static void open() {
        try {
            ocl = OpenClBackend.open(-1, -1);
        } catch (ClRuntime.Unavailable | LinkageError e) {
            // reported by require() in each test
        }
        cpu = new CpuBackend(2);
    }

    @AfterAll
    static void close() {
        if (ocl != null) ocl.close();
        cpu.close();
    }

    @AfterEach
    void free() {
        buffers.forEach(DeviceBuffer::close);
        buffers.clear();
    }

    private static void require() {
        RuntimeRequirement.require(ocl != null, "an OpenCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1)");
    }

    private float[] random(int n, float lo, float hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rnd.nextFloat();
        return x;
    }

    /** The same data on both backends: [0] OpenCL, [1] CPU. */
    private DeviceBuffer[] up(float[] x) {
        DeviceBuffer[] b = {ocl.upload(x), cpu.upload(x)};
        buffers.add(b[0]);
        buffers.add(b[1]);
        return b;
    }

    private DeviceBuffer[] zeros(long n) {
        DeviceBuffer[] b = {ocl.allocate(n), cpu.allocate(n)};
        buffers.add(b[0]);
        buffers.add(b[1]);
        return b;
    }

    private static float[] down(Backend be, DeviceBuffer b) {
        float[] out = new float[(int) b.size()];
        be.download(b, 0, out, 0, out.length);
        return out;
    }

    private static void assertSame(DeviceBuffer[] b, double tol, String what) {
        float[] o = down(ocl, b[0]), c = down(cpu, b[1]);
        assertEquals(c.length, o.length, what);
        for (int i = 0; i < c.length; i++) {
            if (!(Math.abs(o[i] - c[i]) <= tol * (1 + Math.abs(c[i])))) {
                fail(what + ": element " + i + " opencl " + o[i] + " cpu " + c[i]);
            }
        }
    }

    private interface Op {
        void run(Backend be, int i);
    }

    private static void both(Op op) {
        op.run(ocl, 0);
        op.run(cpu, 1);
    }

    @Test
    void gemmOverSeveralTilesWithBiasAndBeta() {
        require();
        int batch = 3, m = 130, n = 70, k = 300;
        for (int t = 0; t < 4; t++) {
            boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
            DeviceBuffer[] a = up(random(batch * m * k, -1, 1)), b = up(random(k * n, -1, 1)), bias = up(random(n, -1, 1));
            DeviceBuffer[] c = up(random(batch * m * n, -1, 1));
            both((be, i) -> be.gemm(ta, tb, batch, m, n, k, 0.5f, a[i], (long) m * k, b[i], 0, 0.25f, c[i], bias[i]));
            assertSame(c, 1e-4, "gemm ta=" + ta + " tb=" + tb);
        }
    }

    @Test
    void longRowsReduceSoftmaxAndNorms() {
        require();
        int rows = 5, cols = 1000;
        DeviceBuffer[] x = up(random(rows * cols, -3, 3)), y = zeros(rows * cols), s = zeros(rows);
        for (ReduceOp op : ReduceOp.values()) {
            both((be, i) -> be.reduce(op, x[i], s[i], rows, cols, 1));
            assertSame(s, 1e-4, "reduce " + op);
        }
        both((be, i) -> be.softmax(x[i], y[i], rows, cols));
        assertSame(y, 1e-5, "softmax");
        DeviceBuffer[] g = up(random(cols, 0.5f, 1.5f)), bt = up(random(cols, -1, 1)), mean = zeros(rows), rstd = zeros(rows);
        both((be, i) -> be.layerNorm(x[i], g[i], bt[i], y[i], mean[i], rstd[i], rows, cols, 1e-5f));
        assertSame(y, 1e-4, "layerNorm");
        DeviceBuffer[] dy = up(random(rows * cols, -1, 1)), dx = zeros(rows * cols), dg = zeros(cols), db = zeros(cols);
        both((be, i) -> be.layerNormBackward(x[i], g[i], mean[i], rstd[i], dy[i], dx[i], dg[i], db[i], rows, cols));
        assertSame(dx, 1e-4, "layerNorm dx");
        assertSame(dg, 1e-4, "layerNorm dgamma");
        assertSame(db, 1e-4, "layerNorm dbeta");
        int n = 2, c = 32, hw = 64, groups = 8;
        DeviceBuffer[] gx = up(random(n * c * hw, -2, 2)), gy = zeros(n * c * hw), gg = up(random(c, 0.5f, 1.5f)),
                gb = up(random(c, -1, 1)), gm = zeros(n * groups), gr = zeros(n * groups);
        both((be, i) -> be.groupNorm(gx[i], gg[i], gb[i], gy[i], gm[i], gr[i], n, c, hw, groups, 1e-5f));
        assertSame(gy, 1e-4, "groupNorm");
        DeviceBuffer[] gdy = up(random(n * c * hw, -1, 1)), gdx = zeros(n * c * hw), gdg = zeros(c), gdb = zeros(c);
        both((be, i) -> be.groupNormBackward(gx[i], gg[i], gm[i], gr[i], gdy[i], gdx[i], gdg[i], gdb[i], n, c, hw, groups));
        assertSame(gdx, 1e-4, "groupNorm dx");
        assertSame(gdg, 1e-4, "groupNorm dgamma");
        assertSame(gdb, 1e-4, "groupNorm dbeta");
    }

    /** n = 16 (the state-parallel sk_scan_fwd16): full groups and chunks, then a last group of 7 of 8 pairs and a partial chunk. */
    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource({"2, 64, 96", "3, 45, 13"})
    void selectiveScanAtModelShapes(int b, int l, int e) {
        require();
        int n = 16;
        DeviceBuffer[] u = up(random(b * l * e, -1, 1)), delta = up(random(b * l * e, 0.001f, 0.2f)),
                a = up(random(e * n, -16, -1)), bm = up(random(b * l * n, -1, 1)), cm = up(random(b * l * n, -1, 1)),
                d = up(random(e, 0.5f, 1.5f)), y = zeros(b * l * e), dy = up(random(b * l * e, -1, 1));
        both((be, i) -> be.selectiveScan(u[i], delta[i], a[i], bm[i], cm[i], d[i], y[i], b, l, e, n));
        assertSame(y, 1e-4, "scan y");
        DeviceBuffer[] du = zeros(b * l * e), ddelta = zeros(b * l * e), da = zeros(e * n), dbm = zeros(b * l * n),
                dcm = zeros(b * l * n), dd = zeros(e);
        both((be, i) -> be.selectiveScanBackward(u[i], delta[i], a[i], bm[i], cm[i], d[i], dy[i], du[i], ddelta[i], da[i],
                dbm[i], dcm[i], dd[i], b, l, e, n));
        assertSame(du, 1e-4, "scan du");
        assertSame(ddelta, 1e-4, "scan ddelta");
        assertSame(da, 1e-4, "scan dA");
        assertSame(dbm, 1e-4, "scan dB");
        assertSame(dcm, 1e-4, "scan dC");
        assertSame(dd, 1e-4, "scan dD");
    }

    @Test
    void batchedConv2dAndItsGradients() {
        require();
        Conv2dShape s = new Conv2dShape(3, 5, 9, 11, 7, 3, 3, 2, 1);
        int xs = 3 * 5 * 9 * 11, ws = 7 * 5 * 9, ys = 3 * 7 * s.outH() * s.outW();
        DeviceBuffer[] x = up(random(xs, -1, 1)), w = up(random(ws, -1, 1)), bias = up(random(7, -1, 1)), y = zeros(ys),
                dy = up(random(ys, -1, 1)), dx = zeros(xs), dw = zeros(ws), db = zeros(7);
        both((be, i) -> be.conv2d(x[i], w[i], bias[i], y[i], s));
        assertSame(y, 1e-4, "conv2d");
        both((be, i) -> be.conv2dBackwardInput(dy[i], w[i], dx[i], s));
        assertSame(dx, 1e-4, "conv2d dx");
        both((be, i) -> be.conv2dBackwardWeight(x[i], dy[i], dw[i], db[i], s));
        assertSame(dw, 1e-4, "conv2d dw");
        assertSame(db, 1e-4, "conv2d dbias");
    }

    @Test
    void copyWithMoreThanSixDimensionsAndBroadcastBinary() {
        require();
        int[] shape = {2, 3, 2, 3, 2, 3, 2, 2};
        int n = 1;
        for (int v : shape) n *= v;
        long[] src = new long[shape.length], dst = new long[shape.length];
        long st = 1;
        for (int i = shape.length - 1; i >= 0; i--) { src[i] = st; st *= shape[i]; }
        // destination: the reversed axis order (a full transpose; no two axes merge)
        st = 1;
        for (int i = 0; i < shape.length; i++) { dst[i] = st; st *= shape[i]; }
        DeviceBuffer[] x = up(random(n, -1, 1)), y = zeros(n);
        both((be, i) -> be.copy(x[i], 0, src, y[i], 0, dst, shape));
        assertSame(y, 0, "8-d transpose");
        int[] bs = {4, 1, 5, 6};
        DeviceBuffer[] a = up(random(4 * 5 * 6, -1, 1)), b = up(random(6, 0.5f, 2)), out = zeros(4 * 5 * 6);
        for (BinaryOp op : BinaryOp.values()) {
            both((be, i) -> be.binary(op, a[i], new long[] {30, 30, 6, 1}, b[i], new long[] {0, 0, 0, 1}, out[i], bs));
            assertSame(out, 1e-6, "binary " + op);
        }
        for (UnaryOp op : UnaryOp.values()) {
            DeviceBuffer[] p = up(random(300, 0.1f, 4)), q = zeros(300);
            both((be, i) -> be.unary(op, p[i], q[i], 300));
            assertSame(q, 1e-5, "unary " + op);
        }
    }

    @Test
    void conv1dGatherScatterAdamwRandom() {
        require();
        int b = 2, l = 33, c = 70, k = 4;
        DeviceBuffer[] x = up(random(b * l * c, -1, 1)), w = up(random(c * k, -1, 1)), bias = up(random(c, -1, 1)),
                y = zeros(b * l * c), dy = up(random(b * l * c, -1, 1)), dx = zeros(b * l * c), dw = zeros(c * k), db = zeros(c);
        both((be, i) -> be.depthwiseCausalConv1d(x[i], w[i], bias[i], y[i], b, l, c, k));
        assertSame(y, 1e-5, "conv1d");
        both((be, i) -> be.depthwiseCausalConv1dBackward(x[i], w[i], dy[i], dx[i], dw[i], db[i], b, l, c, k));
        assertSame(dx, 1e-5, "conv1d dx");
        assertSame(dw, 1e-4, "conv1d dw");
        assertSame(db, 1e-4, "conv1d dbias");
        int[] order = new int[256];
        for (int i = 0; i < 256; i++) order[i] = (i % 16) * 16 + i / 16; // column-major scan order
        DeviceBuffer[] src = up(random(2 * 256 * 8, -1, 1)), g = zeros(2 * 256 * 8), acc = up(random(2 * 256 * 8, -1, 1));
        both((be, i) -> be.gather(src[i], g[i], 2, 256, 8, order));
        assertSame(g, 0, "gather");
        both((be, i) -> be.scatterAdd(src[i], acc[i], 2, 256, 8, order));
        assertSame(acc, 1e-6, "scatterAdd");
        DeviceBuffer[] p = up(random(1000, -1, 1)), gr = up(random(1000, -1, 1)), m = zeros(1000), v = zeros(1000);
        for (int step = 1; step <= 3; step++) {
            long s = step;
            both((be, i) -> be.adamw(p[i], gr[i], m[i], v[i], 1000, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, s));
        }
        assertSame(p, 1e-6, "adamw");
        DeviceBuffer[] r = zeros(4097);
        both((be, i) -> be.randomUniform(r[i], 4097, 123456789L, 1L << 33));
        assertSame(r, 0, "uniform (bit-exact)");
        both((be, i) -> be.randomNormal(r[i], 4097, -5L, 17));
        assertSame(r, 1e-6, "normal");
    }
}
