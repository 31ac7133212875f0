package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The CPU backend gives the same bits in the interpreter as after C2 compiled it: the transcendental
 * unary ops and their backwards, softmax and the selective scan (forward and backward) run in a
 * forked {@code -Xint} JVM and here after a warm-up, on the same fixed inputs. (The Vector API's
 * own EXP/TANH/... are not like that: a Java fallback until C2 swaps in SVML.)
 */
class TierDeterminismTest {
    static final UnaryOp[] OPS = {UnaryOp.EXP, UnaryOp.LOG, UnaryOp.TANH, UnaryOp.SIGMOID, UnaryOp.SILU,
            UnaryOp.SOFTPLUS, UnaryOp.GELU_TANH, UnaryOp.SIN, UnaryOp.COS};
    /** Not a multiple of any vector length: the scalar tails run too. */
    static final int COUNT = 203;
    /** Scan sizes: e not a multiple of the vector length (the masked block runs). */
    static final int B = 2, L = 12, E = 20, N = 4;

    /** Writes the result bits of {@link #compute} to args[0]: run with -Xint by the test. */
    public static void main(String[] args) throws IOException {
        int[] bits;
        try (CpuBackend be = new CpuBackend(2)) {
            bits = compute(be);
        }
        ByteBuffer buf = ByteBuffer.allocate(bits.length * 4);
        buf.asIntBuffer().put(bits);
        Files.write(Path.of(args[0]), buf.array());
    }

    private static DeviceBuffer upload(CpuBackend be, float[] v) {
        return be.upload(v);
    }

    /** Fixed inputs: a deterministic spread over [-scale, scale] plus edge values at the front. */
    private static float[] inputs(int n, float scale, int seed) {
        float[] v = new float[n];
        float[] edge = {0f, -0f, 1e-30f, 20.5f, -20.5f, 90f, -90f, 0.625f, -0.625f};
        for (int i = 0; i < n; i++) {
            long h = (i + 1L) * 0x9E3779B97F4A7C15L + seed * 0xBF58476D1CE4E5B9L;
            h ^= h >>> 31;
            v[i] = i < edge.length ? edge[i] : scale * ((h >>> 40) / (float) (1 << 24) * 2 - 1);
        }
        return v;
    }

    private static void add(List<Float> out, CpuBackend be, DeviceBuffer b, int n) {
        float[] v = new float[n];
        be.download(b, 0, v, 0, n);
        for (float f : v) out.add(f);
    }

    static int[] compute(CpuBackend be) {
        List<Float> out = new ArrayList<>();
        {
            float[] xv = inputs(COUNT, 8, 1), pos = new float[COUNT];
            for (int i = 0; i < COUNT; i++) pos[i] = Math.abs(xv[i]) + 1e-3f;
            try (DeviceBuffer x = upload(be, xv); DeviceBuffer xp = upload(be, pos); DeviceBuffer dy = upload(be, inputs(COUNT, 1, 2));
                 DeviceBuffer y = be.allocate(COUNT)) {
                for (UnaryOp op : OPS) {
                    DeviceBuffer in = op == UnaryOp.LOG ? xp : x;
                    be.unary(op, in, y, COUNT);
                    add(out, be, y, COUNT);
                    be.unaryBackward(op, in, dy, y, COUNT);
                    add(out, be, y, COUNT);
                }
                be.softmax(x, y, 7, 29);
                add(out, be, y, COUNT);
            }
            int ble = B * L * E, bln = B * L * N;
            float[] dtv = inputs(ble, 1, 4), av = inputs(E * N, 2, 5);
            for (int i = 0; i < ble; i++) dtv[i] = Math.abs(dtv[i]) * 0.5f + 1e-3f;
            for (int i = 0; i < av.length; i++) av[i] = -Math.abs(av[i]) - 0.05f;
            try (DeviceBuffer u = upload(be, inputs(ble, 1, 3)); DeviceBuffer dt = upload(be, dtv); DeviceBuffer a = upload(be, av);
                 DeviceBuffer bm = upload(be, inputs(bln, 1, 6)); DeviceBuffer cm = upload(be, inputs(bln, 1, 7));
                 DeviceBuffer d = upload(be, inputs(E, 1, 8)); DeviceBuffer dy = upload(be, inputs(ble, 1, 9));
                 DeviceBuffer y = be.allocate(ble); DeviceBuffer du = be.allocate(ble); DeviceBuffer ddt = be.allocate(ble);
                 DeviceBuffer da = be.allocate(E * N); DeviceBuffer dbm = be.allocate(bln); DeviceBuffer dcm = be.allocate(bln);
                 DeviceBuffer dd = be.allocate(E)) {
                be.selectiveScan(u, dt, a, bm, cm, d, y, B, L, E, N);
                be.selectiveScanBackward(u, dt, a, bm, cm, d, dy, du, ddt, da, dbm, dcm, dd, B, L, E, N);
                add(out, be, y, ble);
                add(out, be, du, ble);
                add(out, be, ddt, ble);
                add(out, be, da, E * N);
                add(out, be, dbm, bln);
                add(out, be, dcm, bln);
                add(out, be, dd, E);
            }
        }
        int[] bits = new int[out.size()];
        for (int i = 0; i < bits.length; i++) bits[i] = Float.floatToIntBits(out.get(i)); // NaNs compare equal
        return bits;
    }

    @Test
    void interpretedAndCompiledGiveTheSameBits(@TempDir Path dir) throws Exception {
        Path file = dir.resolve("xint.bin");
        String java = ProcessHandle.current().info().command().orElseThrow();
        Process p = new ProcessBuilder(java, "-Xint", "--add-modules", "jdk.incubator.vector",
                "-cp", System.getProperty("java.class.path"), TierDeterminismTest.class.getName(), file.toString())
                .redirectErrorStream(true).redirectOutput(dir.resolve("xint.log").toFile()).start();
        int[] cold, warm;
        try (CpuBackend be = new CpuBackend(2)) {
            cold = compute(be); // this JVM, mostly interpreted and C1
            // warm up until C2 has compiled the kernels (each loop runs hot enough to be compiled whole, not just OSR)
            for (int i = 0; i < 3000; i++) compute(be);
            warm = compute(be);
        }
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("the -Xint JVM did not finish in 120 s");
        }
        assertEquals(0, p.exitValue(), () -> "-Xint JVM failed: " + read(dir.resolve("xint.log")));
        ByteBuffer buf = ByteBuffer.wrap(Files.readAllBytes(file));
        int[] xint = new int[buf.remaining() / 4];
        buf.asIntBuffer().get(xint);
        assertArrayEquals(cold, warm, "cold and warm runs of this JVM differ");
        assertArrayEquals(xint, warm, "-Xint and C2-compiled runs differ");
    }

    private static String read(Path f) {
        try { return Files.readString(f); } catch (IOException e) { throw new UncheckedIOException(e); }
    }
}
