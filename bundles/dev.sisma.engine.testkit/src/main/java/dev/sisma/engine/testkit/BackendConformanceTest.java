package dev.sisma.engine.testkit;

import static dev.sisma.engine.testkit.Reference.d;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.Philox;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The backend conformance suite, written once against {@link Backend}: every primitive is checked
 * against its definition ({@link Reference}, double precision; backwards against central finite
 * differences of the reference forward), with a tolerance per op. A backend module runs it on
 * itself by extending this class:
 * <pre>
 * class CpuConformanceTest extends BackendConformanceTest {
 *     protected Backend backend() { return new CpuBackend(2); }
 * }
 * </pre>
 * {@link #backend()} is called once per test; buffers made through {@link #up} are closed after each test.
 * Sizes are chosen to cross vector-width, tile and block edges (odd sizes, > 256-deep GEMMs).
 */
public abstract class BackendConformanceTest {

    /** The backend under test (a new or shared instance). */
    protected abstract Backend backend();

    /** Tolerance scale for backends computing with fused or reordered float32 arithmetic (1 = CPU). */
    protected double toleranceScale() { return 1; }

    private Backend be;
    private final List<DeviceBuffer> buffers = new ArrayList<>();
    private final Random rnd = new Random(1234);

    protected final Backend be() {
        if (be == null) be = backend();
        return be;
    }

    @AfterEach
    void freeBuffers() {
        buffers.forEach(DeviceBuffer::close);
        buffers.clear();
    }

    protected final DeviceBuffer up(float[] x) {
        DeviceBuffer b = be().upload(x);
        buffers.add(b);
        return b;
    }

    protected final DeviceBuffer zeros(long n) {
        DeviceBuffer b = be().allocate(n);
        buffers.add(b);
        return b;
    }

    protected final float[] down(DeviceBuffer b) {
        float[] out = new float[(int) b.size()];
        be().download(b, 0, out, 0, out.length);
        return out;
    }

    protected final float[] random(int n, float lo, float hi) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) x[i] = lo + (hi - lo) * rnd.nextFloat();
        return x;
    }

    /** |actual - expected| <= atol + rtol |expected| elementwise (scaled by toleranceScale). */
    protected final void assertClose(double[] expected, float[] actual, double atol, double rtol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        double s = toleranceScale();
        for (int i = 0; i < expected.length; i++) {
            double err = Math.abs(actual[i] - expected[i]), tol = s * (atol + rtol * Math.abs(expected[i]));
            if (!(err <= tol)) fail(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i] + " (error " + err + " > " + tol + ")");
        }
    }

    // ============================================================ memory

    @Test
    public void allocateIsZeroAndRoundTrips() {
        assertArrayEquals(new float[37], down(zeros(37)));
        float[] x = random(1000, -5, 5);
        assertArrayEquals(x, down(up(x)));
        float[] part = new float[10];
        be().download(up(x), 500, part, 2, 5);
        for (int i = 0; i < 5; i++) assertEquals(x[500 + i], part[2 + i]);
    }

    @Test
    public void segmentsUploadMapAndDownloadLittleEndian() {
        float[] x = random(123, -1, 1);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment s = arena.allocate(x.length * 4L + 1).asSlice(1); // deliberately unaligned
            ValueLayout.OfFloat le = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
            for (int i = 0; i < x.length; i++) s.set(le, i * 4L, x[i]);
            DeviceBuffer a = be().upload(s), m = be().map(s);
            buffers.add(a);
            buffers.add(m);
            assertArrayEquals(x, down(a));
            assertArrayEquals(x, down(m));
            MemorySegment out = arena.allocate(x.length * 4L);
            be().download(a, out);
            for (int i = 0; i < x.length; i++) assertEquals(x[i], out.get(le, i * 4L));
        }
    }

    @Test
    public void fillSetsARange() {
        DeviceBuffer b = zeros(50);
        be().fill(b, 10, 20, 2.5f);
        float[] y = down(b);
        for (int i = 0; i < 50; i++) assertEquals(i >= 10 && i < 30 ? 2.5f : 0f, y[i]);
        // large enough to be split across threads, and -0 (not +0) where asked
        DeviceBuffer big = up(random(100_003, -1, 1));
        be().fill(big, 1, 100_001, -0f);
        float[] z = down(big);
        for (int i = 1; i <= 100_001; i++) assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(z[i]), "element " + i);
        assertTrue(z[0] != 0f && z[100_002] != 0f, "outside the range untouched");
    }

    @Test
    public void aBufferAllocatedAfterOthersWereFreedIsStillAllZero() {
        for (int round = 0; round < 3; round++) {
            DeviceBuffer used = be().upload(random(3000, 1, 2)); // never zero
            used.close();
            assertArrayEquals(new float[3000], down(zeros(3000)), "round " + round);
        }
    }

    @Test
    public void stridedCopyPermutesSlicesAndBroadcasts() {
        // permute [2, 3, 5] -> [5, 2, 3]
        float[] x = random(30, -1, 1);
        int[] shape = {5, 2, 3};
        long[] ss = {1, 15, 5}, ds = {6, 3, 1};
        float[] want = new float[30];
        Reference.copy(x, 0, ss, want, 0, ds, shape);
        DeviceBuffer y = zeros(30);
        be().copy(up(x), 0, ss, y, 0, ds, shape);
        assertArrayEquals(want, down(y));
        // broadcast a row [7] into [4, 7] at offset 3 of a larger buffer, with a source offset
        float[] row = random(10, -1, 1);
        float[] want2 = new float[40];
        Reference.copy(row, 3, new long[] {0, 1}, want2, 3, new long[] {7, 1}, new int[] {4, 7});
        DeviceBuffer y2 = zeros(40);
        be().copy(up(row), 3, new long[] {0, 1}, y2, 3, new long[] {7, 1}, new int[] {4, 7});
        assertArrayEquals(want2, down(y2));
        // inner stride 0 (nearest upsampling) and a scalar shape
        float[] want3 = new float[12];
        Reference.copy(row, 0, new long[] {1, 0}, want3, 0, new long[] {3, 1}, new int[] {4, 3});
        DeviceBuffer y3 = zeros(12);
        be().copy(up(row), 0, new long[] {1, 0}, y3, 0, new long[] {3, 1}, new int[] {4, 3});
        assertArrayEquals(want3, down(y3));
        // nearest 2x upsampling of [2, 3, 4, 5] as a rank-6 broadcast: many short rows across several axes
        float[] img = random(120, -1, 1);
        int[] up = {2, 3, 4, 2, 5, 2};
        long[] us = {60, 20, 5, 0, 1, 0}, ud = {240, 80, 20, 10, 2, 1};
        float[] want4 = new float[480];
        Reference.copy(img, 0, us, want4, 0, ud, up);
        DeviceBuffer y4 = zeros(480);
        be().copy(up(img), 0, us, y4, 0, ud, up);
        assertArrayEquals(want4, down(y4));
    }

    // ============================================================ GEMM

    private void checkGemm(boolean ta, boolean tb, int batch, int m, int n, int k, float alpha, boolean sharedA, boolean sharedB,
                           float beta, boolean bias) {
        long sa = sharedA ? 0 : (long) m * k, sb = sharedB ? 0 : (long) k * n;
        float[] a = random((int) (sharedA ? m * k : batch * m * k), -1, 1), b = random((int) (sharedB ? k * n : batch * k * n), -1, 1);
        float[] c = random(batch * m * n, -1, 1), bi = bias ? random(n, -1, 1) : null;
        double[] want = Reference.gemm(ta, tb, batch, m, n, k, alpha, d(a), sa, d(b), sb, beta, d(c), bi == null ? null : d(bi));
        DeviceBuffer cb = up(c);
        be().gemm(ta, tb, batch, m, n, k, alpha, up(a), sa, up(b), sb, beta, cb, bi == null ? null : up(bi));
        assertClose(want, down(cb), 1e-5 * Math.sqrt(k) + 1e-6, 1e-5,
                "gemm ta=" + ta + " tb=" + tb + " batch=" + batch + " " + m + "x" + n + "x" + k + " beta=" + beta);
    }

    @Test
    public void gemmAllTransposesOddSizes() {
        for (boolean ta : new boolean[] {false, true})
            for (boolean tb : new boolean[] {false, true}) {
                checkGemm(ta, tb, 1, 7, 37, 19, 1f, false, false, 0f, false);
                checkGemm(ta, tb, 1, 1, 1, 1, 1f, false, false, 0f, false);
                checkGemm(ta, tb, 1, 13, 65, 33, 0.5f, false, false, 1f, true);
            }
    }

    @Test
    public void gemmLargerThanOneBlock() {
        // crosses the CPU backend's KC (256) and MC (96) blocks and several NR panels
        checkGemm(false, true, 1, 131, 97, 300, 1f, false, false, 0f, true);
        checkGemm(true, false, 1, 100, 70, 520, 1f, false, false, 0.25f, false);
        checkGemm(false, false, 1, 200, 150, 64, 2f, false, false, 0f, false);
    }

    @Test
    public void gemmBatchedWithSharedOperands() {
        checkGemm(false, false, 3, 9, 11, 5, 1f, false, false, 0f, false);
        checkGemm(false, true, 4, 6, 8, 10, 1f, false, true, 0f, true);
        checkGemm(true, false, 2, 5, 17, 23, 1f, true, false, 0.5f, false);
    }

    @Test
    public void gemmBetaZeroIgnoresNaN() {
        float[] c = new float[6];
        java.util.Arrays.fill(c, Float.NaN);
        DeviceBuffer cb = up(c);
        be().gemm(false, false, 1, 2, 3, 1, 1f, up(new float[] {1, 2}), 0, up(new float[] {1, 1, 1}), 0, 0f, cb, null);
        assertArrayEquals(new float[] {1, 1, 1, 2, 2, 2}, down(cb));
    }

    // ============================================================ elementwise

    private float[] domain(UnaryOp op, int n) {
        return switch (op) {
            case LOG, SQRT, RSQRT, RECIPROCAL -> random(n, 0.2f, 4f);
            case EXP -> random(n, -6, 6);
            default -> {
                float[] x = random(n, -6, 6);
                x[0] = 25f; // softplus threshold branch
                x[1] = -25f;
                yield x;
            }
        };
    }

    @Test
    public void unaryForwardAndBackward() {
        int n = 301;
        for (UnaryOp op : UnaryOp.values()) {
            float[] x = domain(op, n), dy = random(n, -1, 1);
            double[] want = new double[n], wantDx = new double[n];
            for (int i = 0; i < n; i++) {
                want[i] = Reference.unary(op, x[i]);
                double h = 1e-6 * Math.max(1, Math.abs(x[i]));
                wantDx[i] = dy[i] * (Reference.unary(op, x[i] + h) - Reference.unary(op, x[i] - h)) / (2 * h);
            }
            if (op == UnaryOp.ABS || op == UnaryOp.RELU) for (int i = 0; i < n; i++) if (Math.abs(x[i]) < 1e-5) wantDx[i] = 0;
            DeviceBuffer xb = up(x), y = zeros(n), dx = zeros(n);
            be().unary(op, xb, y, n);
            be().unaryBackward(op, xb, up(dy), dx, n);
            assertClose(want, down(y), 2e-6, 2e-6, "unary " + op);
            assertClose(wantDx, down(dx), 1e-5, 1e-4, "unaryBackward " + op);
            be().unary(op, xb, xb, n); // in place
            assertClose(want, down(xb), 2e-6, 2e-6, "unary in place " + op);
        }
    }

    @Test
    public void affineScalesAndShifts() {
        float[] x = random(77, -3, 3);
        double[] want = new double[77];
        for (int i = 0; i < 77; i++) want[i] = 1.5 * x[i] - 0.25;
        DeviceBuffer y = zeros(77);
        be().affine(up(x), y, 77, 1.5f, -0.25f);
        assertClose(want, down(y), 1e-6, 1e-6, "affine");
    }

    @Test
    public void binaryWithBroadcasting() {
        for (BinaryOp op : BinaryOp.values()) {
            // same shape; row broadcast [3,1,21] x [1,4,21]; scalar
            int[] shape = {3, 4, 21};
            float[] a = random(3 * 4 * 21, -2, 2), b = random(3 * 4 * 21, 0.5f, 2);
            check(op, a, new long[] {84, 21, 1}, b, new long[] {84, 21, 1}, shape);
            float[] ra = random(3 * 21, -2, 2), rb = random(4 * 21, 0.5f, 2);
            check(op, ra, new long[] {21, 0, 1}, rb, new long[] {0, 21, 1}, shape);
            float[] s = {1.75f};
            check(op, a, new long[] {84, 21, 1}, s, new long[] {0, 0, 0}, shape);
            check(op, s, new long[] {0, 0, 0}, b, new long[] {84, 21, 1}, shape);
            // broadcast along the last axis (per-row value)
            float[] col = random(12, 0.5f, 2);
            check(op, a, new long[] {84, 21, 1}, col, new long[] {4, 1, 0}, shape);
        }
    }

    private void check(BinaryOp op, float[] a, long[] as, float[] b, long[] bs, int[] shape) {
        double[] want = Reference.binary(op, d(a), as, d(b), bs, shape);
        DeviceBuffer out = zeros(want.length);
        be().binary(op, up(a), as, up(b), bs, out, shape);
        assertClose(want, down(out), 1e-6, 1e-6, "binary " + op);
    }

    @Test
    public void compareWithBroadcastingAndNaN() {
        int[] shape = {3, 4, 21};
        float[] a = random(3 * 4 * 21, -2, 2), row = random(4 * 21, -2, 2);
        for (int i = 0; i < a.length; i += 7) a[i] = row[i % row.length]; // ties where the row broadcasts
        a[5] = Float.NaN;
        a[6] = Float.POSITIVE_INFINITY;
        for (CompareOp op : CompareOp.values()) {
            double[] want = new double[a.length];
            for (int i = 0; i < a.length; i++) want[i] = op.test(a[i], row[i % row.length]) ? 1 : 0;
            DeviceBuffer out = zeros(a.length);
            be().compare(op, up(a), new long[] {84, 21, 1}, up(row), new long[] {0, 21, 1}, out, shape);
            assertClose(want, down(out), 0, 0, "compare " + op);
        }
        // a scalar threshold, in place
        DeviceBuffer ab = up(a);
        be().compare(CompareOp.GT, ab, new long[] {1}, up(new float[] {0f}), new long[] {0}, ab, new int[] {a.length});
        float[] got = down(ab);
        for (int i = 0; i < a.length; i++) assertEquals(a[i] > 0 ? 1f : 0f, got[i], "compare GT 0 in place, element " + i);
    }

    @Test
    public void selectPicksWithoutMixing() {
        int[] shape = {5, 33};
        float[] cond = new float[5 * 33], a = random(5 * 33, -1, 1), col = random(5, -1, 1);
        for (int i = 0; i < cond.length; i++) cond[i] = rnd.nextBoolean() ? (rnd.nextBoolean() ? 1f : -3f) : 0f;
        a[0] = Float.POSITIVE_INFINITY;
        a[1] = Float.NaN;
        cond[0] = 0f;
        cond[1] = 0f;
        double[] want = new double[cond.length];
        for (int i = 0; i < cond.length; i++) want[i] = cond[i] != 0 ? a[i] : col[i / 33];
        DeviceBuffer out = zeros(cond.length);
        be().select(up(cond), new long[] {33, 1}, up(a), new long[] {33, 1}, up(col), new long[] {1, 0}, out, shape);
        assertClose(want, down(out), 0, 0, "select");
        // a broadcast condition (one per row), a scalar operand, out aliasing a
        float[] rowCond = {1, 0, 1, 0, 0};
        DeviceBuffer ab = up(a);
        be().select(up(rowCond), new long[] {1, 0}, ab, new long[] {33, 1}, up(new float[] {7f}), new long[] {0, 0}, ab, shape);
        float[] got = down(ab);
        for (int i = 0; i < a.length; i++) assertEquals(rowCond[i / 33] != 0 ? a[i] : 7f, got[i], "select in place, element " + i);
    }

    @Test
    public void binaryInPlaceAccumulate() {
        float[] a = random(100, -1, 1), b = random(100, -1, 1);
        double[] want = Reference.binary(BinaryOp.ADD, d(a), new long[] {1}, d(b), new long[] {1}, new int[] {100});
        DeviceBuffer ab = up(a);
        be().binary(BinaryOp.ADD, ab, new long[] {1}, up(b), new long[] {1}, ab, new int[] {100});
        assertClose(want, down(ab), 1e-6, 1e-6, "binary in place");
    }

    @Test
    public void reduceOverEachAxisPosition() {
        int[][] cases = {{1, 100, 1}, {3, 37, 1}, {4, 5, 19}, {1, 9, 40}, {2, 1, 3}};
        for (ReduceOp op : ReduceOp.values())
            for (int[] c : cases) {
                float[] x = random(c[0] * c[1] * c[2], -2, 2);
                DeviceBuffer y = zeros(c[0] * c[2]);
                be().reduce(op, up(x), y, c[0], c[1], c[2]);
                assertClose(Reference.reduce(op, d(x), c[0], c[1], c[2]), down(y), 1e-5, 1e-5, "reduce " + op + " " + java.util.Arrays.toString(c));
            }
    }

    // ============================================================ normalisation

    @Test
    public void softmaxAndBackward() {
        int rows = 5, cols = 33;
        float[] x = random(rows * cols, -4, 4), dy = random(rows * cols, -1, 1);
        DeviceBuffer y = zeros(x.length), dx = zeros(x.length);
        be().softmax(up(x), y, rows, cols);
        assertClose(Reference.softmax(d(x), rows, cols), down(y), 1e-6, 1e-5, "softmax");
        be().softmaxBackward(y, up(dy), dx, rows, cols);
        double[] g = Reference.numericGrad(in -> Reference.softmax(in[0], rows, cols), new double[][] {d(x)}, d(dy), 0, 1e-5);
        assertClose(g, down(dx), 1e-5, 1e-3, "softmaxBackward");
    }

    @Test
    public void layerNormAndBackward() {
        for (boolean affine : new boolean[] {false, true}) {
            int rows = 6, cols = 40;
            float eps = 1e-6f;
            float[] x = random(rows * cols, -3, 3), dy = random(rows * cols, -1, 1);
            float[] gm = affine ? random(cols, 0.5f, 1.5f) : null, bt = affine ? random(cols, -1, 1) : null;
            DeviceBuffer xb = up(x), gb = affine ? up(gm) : null, y = zeros(x.length), mean = zeros(rows), rstd = zeros(rows);
            be().layerNorm(xb, gb, affine ? up(bt) : null, y, mean, rstd, rows, cols, eps);
            Reference.Fn f = in -> Reference.layerNorm(in[0], affine ? in[1] : null, affine ? in[2] : null, rows, cols, eps);
            double[][] in = {d(x), affine ? d(gm) : null, affine ? d(bt) : null};
            assertClose(f.apply(in), down(y), 1e-5, 1e-5, "layerNorm affine=" + affine);
            DeviceBuffer dx = zeros(x.length), dg = affine ? zeros(cols) : null, db = affine ? zeros(cols) : null;
            be().layerNormBackward(xb, gb, mean, rstd, up(dy), dx, dg, db, rows, cols);
            assertClose(Reference.numericGrad(f, in, d(dy), 0, 1e-5), down(dx), 1e-4, 1e-3, "layerNormBackward dx");
            if (affine) {
                assertClose(Reference.numericGrad(f, in, d(dy), 1, 1e-5), down(dg), 1e-4, 1e-3, "layerNormBackward dgamma");
                assertClose(Reference.numericGrad(f, in, d(dy), 2, 1e-5), down(db), 1e-4, 1e-3, "layerNormBackward dbeta");
            }
        }
    }

    @Test
    public void groupNormAndBackward() {
        int n = 2, c = 6, hw = 10, groups = 3;
        float eps = 1e-6f;
        float[] x = random(n * c * hw, -3, 3), dy = random(x.length, -1, 1), gm = random(c, 0.5f, 1.5f), bt = random(c, -1, 1);
        DeviceBuffer xb = up(x), gb = up(gm), y = zeros(x.length), mean = zeros(n * groups), rstd = zeros(n * groups);
        be().groupNorm(xb, gb, up(bt), y, mean, rstd, n, c, hw, groups, eps);
        Reference.Fn f = in -> Reference.groupNorm(in[0], in[1], in[2], n, c, hw, groups, eps);
        double[][] in = {d(x), d(gm), d(bt)};
        assertClose(f.apply(in), down(y), 1e-5, 1e-5, "groupNorm");
        DeviceBuffer dx = zeros(x.length), dg = zeros(c), db = zeros(c);
        be().groupNormBackward(xb, gb, mean, rstd, up(dy), dx, dg, db, n, c, hw, groups);
        assertClose(Reference.numericGrad(f, in, d(dy), 0, 1e-5), down(dx), 1e-4, 1e-3, "groupNormBackward dx");
        assertClose(Reference.numericGrad(f, in, d(dy), 1, 1e-5), down(dg), 1e-4, 1e-3, "groupNormBackward dgamma");
        assertClose(Reference.numericGrad(f, in, d(dy), 2, 1e-5), down(db), 1e-4, 1e-3, "groupNormBackward dbeta");
    }

    // ============================================================ convolutions

    @Test
    public void conv2dForwardAndBackward() {
        // n, cin, h, w, cout, kh, kw, stride, padding: odd and even sizes, padding wider than needed
        int[][] cases = {{2, 3, 7, 6, 4, 3, 3, 2, 1}, {1, 4, 8, 8, 5, 2, 2, 2, 0}, {2, 2, 5, 5, 3, 1, 1, 1, 0},
                {1, 3, 6, 9, 4, 3, 3, 1, 1}, {1, 2, 5, 4, 3, 3, 3, 1, 2}, {1, 2, 9, 8, 2, 3, 3, 2, 1}, {1, 1, 3, 3, 2, 3, 3, 3, 2}};
        for (int[] k : cases) {
            Conv2dShape s = new Conv2dShape(k[0], k[1], k[2], k[3], k[4], k[5], k[6], k[7], k[8]);
            float[] x = random(s.n() * s.cin() * s.h() * s.w(), -1, 1), w = random(s.cout() * s.cin() * s.kh() * s.kw(), -1, 1),
                    bias = random(s.cout(), -1, 1), dy = random(s.n() * s.cout() * s.outH() * s.outW(), -1, 1);
            Reference.Fn f = in -> Reference.conv2d(in[0], in[1], in[2], s.n(), s.cin(), s.h(), s.w(), s.cout(), s.kh(), s.kw(), s.stride(), s.padding());
            double[][] in = {d(x), d(w), d(bias)};
            DeviceBuffer xb = up(x), wb = up(w), y = zeros(dy.length), dyb = up(dy);
            be().conv2d(xb, wb, up(bias), y, s);
            assertClose(f.apply(in), down(y), 1e-5, 1e-5, "conv2d " + s);
            DeviceBuffer dx = zeros(x.length), dw = zeros(w.length), db = zeros(bias.length);
            be().conv2dBackwardInput(dyb, wb, dx, s);
            be().conv2dBackwardWeight(xb, dyb, dw, db, s);
            assertClose(Reference.numericGrad(f, in, d(dy), 0, 1e-4), down(dx), 1e-4, 1e-4, "conv2dBackwardInput " + s);
            assertClose(Reference.numericGrad(f, in, d(dy), 1, 1e-4), down(dw), 1e-4, 1e-4, "conv2dBackwardWeight " + s);
            assertClose(Reference.numericGrad(f, in, d(dy), 2, 1e-4), down(db), 1e-4, 1e-4, "conv2dBackwardWeight bias " + s);
        }
    }

    @Test
    public void depthwiseCausalConv1dForwardAndBackward() {
        checkDwConv1d(2, 9, 21, 4);  // full vectors of channels and a tail
        checkDwConv1d(1, 6, 5, 3);   // fewer channels than one vector
        checkDwConv1d(2, 3, 40, 4);  // sequences shorter than the kernel
    }

    private void checkDwConv1d(int b, int l, int c, int k) {
        float[] x = random(b * l * c, -1, 1), w = random(c * k, -1, 1), bias = random(c, -1, 1), dy = random(x.length, -1, 1);
        Reference.Fn f = in -> Reference.dwConv1d(in[0], in[1], in[2], b, l, c, k);
        double[][] in = {d(x), d(w), d(bias)};
        DeviceBuffer xb = up(x), wb = up(w), y = zeros(x.length);
        be().depthwiseCausalConv1d(xb, wb, up(bias), y, b, l, c, k);
        assertClose(f.apply(in), down(y), 1e-6, 1e-5, "depthwiseCausalConv1d");
        DeviceBuffer dx = zeros(x.length), dw = zeros(w.length), db = zeros(c);
        be().depthwiseCausalConv1dBackward(xb, wb, up(dy), dx, dw, db, b, l, c, k);
        assertClose(Reference.numericGrad(f, in, d(dy), 0, 1e-4), down(dx), 1e-5, 1e-4, "depthwiseCausalConv1dBackward dx");
        assertClose(Reference.numericGrad(f, in, d(dy), 1, 1e-4), down(dw), 1e-5, 1e-4, "depthwiseCausalConv1dBackward dw");
        assertClose(Reference.numericGrad(f, in, d(dy), 2, 1e-4), down(db), 1e-5, 1e-4, "depthwiseCausalConv1dBackward dbias");
    }

    // ============================================================ indexing

    @Test
    public void gatherAndScatterAddWithRepeats() {
        int outer = 3, axis = 5, inner = 7;
        int[] idx = {4, 0, 0, 2, 4, 1};
        float[] x = random(outer * axis * inner, -1, 1);
        DeviceBuffer y = zeros((long) outer * idx.length * inner);
        be().gather(up(x), y, outer, axis, inner, idx);
        float[] got = down(y);
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < idx.length; i++)
                for (int r = 0; r < inner; r++)
                    assertEquals(x[(o * axis + idx[i]) * inner + r], got[(o * idx.length + i) * inner + r]);
        float[] base = random(x.length, -1, 1), want = base.clone();
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < idx.length; i++)
                for (int r = 0; r < inner; r++) want[(o * axis + idx[i]) * inner + r] += got[(o * idx.length + i) * inner + r];
        DeviceBuffer acc = up(base);
        be().scatterAdd(y, acc, outer, axis, inner, idx);
        assertClose(d(want), down(acc), 1e-6, 1e-6, "scatterAdd");
    }

    // ============================================================ Mamba

    private void checkScan(int b, int l, int e, int n, boolean withD) {
        checkScan(b, l, e, n, withD, random(b * l * e, 0.01f, 0.5f), random(e * n, -2f, -0.1f));
    }

    private void checkScan(int b, int l, int e, int n, boolean withD, float[] delta, float[] a) {
        float[] u = random(b * l * e, -1, 1), bm = random(b * l * n, -1, 1), cm = random(b * l * n, -1, 1),
                dd = withD ? random(e, 0.5f, 1.5f) : null, dy = random(b * l * e, -1, 1);
        Reference.Fn f = in -> Reference.selectiveScan(in[0], in[1], in[2], in[3], in[4], in[5], b, l, e, n);
        double[][] in = {d(u), d(delta), d(a), d(bm), d(cm), withD ? d(dd) : null};
        DeviceBuffer ub = up(u), db = up(delta), ab = up(a), bb = up(bm), cb = up(cm), dD = withD ? up(dd) : null, y = zeros(u.length);
        be().selectiveScan(ub, db, ab, bb, cb, dD, y, b, l, e, n);
        String what = "selectiveScan b" + b + " l" + l + " e" + e + " n" + n + (withD ? " D" : "");
        assertClose(f.apply(in), down(y), 1e-5, 1e-4, what);
        DeviceBuffer gu = zeros(u.length), gdelta = zeros(u.length), ga = zeros(a.length), gb = zeros(bm.length), gc = zeros(cm.length),
                gd = withD ? zeros(e) : null;
        be().selectiveScanBackward(ub, db, ab, bb, cb, dD, up(dy), gu, gdelta, ga, gb, gc, gd, b, l, e, n);
        String[] names = {"du", "ddelta", "dA", "dB", "dC", "dD"};
        DeviceBuffer[] got = {gu, gdelta, ga, gb, gc, gd};
        for (int i = 0; i < 6; i++) {
            if (got[i] == null) continue;
            assertClose(Reference.numericGrad(f, in, d(dy), i, 1e-5), down(got[i]), 2e-4, 1e-3, what + " backward " + names[i]);
        }
    }

    @Test
    public void selectiveScanMatchesDefinition() {
        checkScan(1, 1, 1, 1, true);
        checkScan(2, 6, 3, 4, true);     // channels below one vector
        checkScan(2, 7, 37, 5, true);    // full vectors plus a tail
        checkScan(1, 5, 16, 16, false);  // no D
        checkScan(2, 40, 37, 5, true);   // several chunks of positions and a partial one (the CPU backend walks 16 at a time)
    }

    /** Decays so strong that exp(delta A) is below float's normal range (it flushes to 0), in some positions only. */
    @Test
    public void selectiveScanWithExtremeDecay() {
        int b = 1, l = 40, e = 11, n = 4;
        float[] delta = random(b * l * e, 0.01f, 0.5f), a = random(e * n, -2f, -0.1f);
        for (int c = 0; c < e; c++) a[c * n] = -300f;                      // state 0 of every channel: gone after one step
        for (int i = 20 * e; i < 24 * e; i++) delta[i] = 60f;               // positions 20-23: every state forgets
        checkScan(b, l, e, n, true, delta, a);
    }

    // ============================================================ training

    // ============================================================ fused AdaLN and Mamba gates

    // A backend's own kernels are checked here against the definitions; the default composites
    // are checked by the same tests run on a backend with only the primitives (the CPU module's
    // CompositeConformanceTest, the minimal example backend).

    @Test
    public void fusedAdaLnOpsMatchTheirDefinition() {
        int batch = 2, tokens = 5, cols = 37, n = batch * tokens * cols; // cols crosses a vector width
        float eps = 1e-6f;
        float[] x = random(n, -3, 3), y = random(n, -2, 2);
        float[] shift = random(batch * cols, -1, 1), scale = random(batch * cols, -1, 1), gate = random(batch * cols, -1, 1);
        double[] ln = Reference.layerNorm(d(x), null, null, batch * tokens, cols, eps);
        double[] mod = new double[n], lnMod = new double[n], res = new double[n];
        for (int i = 0; i < n; i++) {
            int v = i / (tokens * cols) * cols + i % cols; // the sample's [b, c]
            mod[i] = x[i] * (1.0 + scale[v]) + shift[v];
            lnMod[i] = ln[i] * (1.0 + scale[v]) + shift[v];
            res[i] = x[i] + (double) gate[v] * y[i];
        }
        DeviceBuffer xb = up(x), yb = up(y), sh = up(shift), sc = up(scale), gt = up(gate);
        DeviceBuffer o1 = zeros(n), o2 = zeros(n), o3 = zeros(n);
        be().modulate(xb, sh, sc, o1, batch, tokens, cols);
        assertClose(mod, down(o1), 1e-6, 1e-6, "modulate");
        be().layerNormModulate(xb, sh, sc, o2, batch, tokens, cols, eps);
        assertClose(lnMod, down(o2), 1e-5, 1e-5, "layerNormModulate");
        be().gatedResidual(xb, gt, yb, o3, batch, tokens, cols);
        assertClose(res, down(o3), 1e-6, 1e-6, "gatedResidual");
        // in place: modulate into x, the residual into x and into y
        DeviceBuffer xi = up(x), yi = up(y);
        be().modulate(xi, sh, sc, xi, batch, tokens, cols);
        assertClose(mod, down(xi), 1e-6, 1e-6, "modulate in place");
        xi = up(x);
        be().gatedResidual(xi, gt, yb, xi, batch, tokens, cols);
        assertClose(res, down(xi), 1e-6, 1e-6, "gatedResidual into x");
        be().gatedResidual(xb, gt, yi, yi, batch, tokens, cols);
        assertClose(res, down(yi), 1e-6, 1e-6, "gatedResidual into y");
    }

    @Test
    public void siluGateReadsZWithARowStride() {
        int rows = 7, cols = 35, zcols = 2 * cols + 3, off = cols + 1;
        float[] x = random(rows * cols, -2, 2), z = random(rows * zcols, -8, 8);
        double[] want = new double[rows * cols];
        for (int r = 0; r < rows; r++) {
            for (int c = 0; c < cols; c++) want[r * cols + c] = x[r * cols + c] * Reference.unary(UnaryOp.SILU, z[off + r * zcols + c]);
        }
        DeviceBuffer zb = up(z);
        DeviceBuffer out = zeros(rows * cols);
        be().siluGate(up(x), zb, off, zcols, out, rows, cols);
        assertClose(want, down(out), 1e-6, 1e-5, "siluGate");
        DeviceBuffer xi = up(x);
        be().siluGate(xi, zb, off, zcols, xi, rows, cols);
        assertClose(want, down(xi), 1e-6, 1e-5, "siluGate in place");
    }

    @Test
    public void adamwMatchesPyTorchFormula() {
        int n = 53;
        float[] p = random(n, -1, 1);
        double[] rp = d(p), rm = new double[n], rv = new double[n];
        DeviceBuffer pb = up(p), mb = zeros(n), vb = zeros(n);
        for (int step = 1; step <= 3; step++) {
            float[] g = random(n, -1, 1);
            Reference.adamw(rp, d(g), rm, rv, 1e-2, 0.9, 0.999, 1e-8, 0.01, step);
            be().adamw(pb, up(g), mb, vb, n, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
        }
        assertClose(rp, down(pb), 1e-6, 1e-5, "adamw param");
        assertClose(rm, down(mb), 1e-6, 1e-5, "adamw m");
        assertClose(rv, down(vb), 1e-7, 1e-5, "adamw v");
    }

    @Test
    public void philoxKnownAnswer() {
        // Random123 kat_vectors: philox4x32 10 rounds, counter 0, key 0
        int[] w = new int[4];
        Philox.block(0L, 0L, w);
        assertArrayEquals(new int[] {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}, w);
    }

    @Test
    public void randomNumbersAreTheDefinedPhiloxSequence() {
        int n = 1003;
        long seed = 0x1234_5678_9abcL, offset = (1L << 32) - 5; // offset crosses the 32-bit counter word
        DeviceBuffer u = zeros(n), z = zeros(n);
        be().randomUniform(u, n, seed, offset);
        be().randomNormal(z, n, seed, offset);
        float[] uu = down(u), zz = down(z);
        double mean = 0, sq = 0;
        for (int i = 0; i < n; i++) {
            assertEquals(Philox.uniformAt(seed, offset, i), uu[i], 0f, "uniform " + i + " must be bit-exact");
            float want = Philox.normalAt(seed, offset, i);
            assertEquals(want, zz[i], 1e-5f * Math.max(1, Math.abs(want)), "normal " + i);
            assertTrue(uu[i] > 0 && uu[i] < 1);
            mean += zz[i];
            sq += zz[i] * zz[i];
        }
        mean /= n;
        assertEquals(0, mean, 0.1);
        assertEquals(1, Math.sqrt(sq / n - mean * mean), 0.1);
    }
}
