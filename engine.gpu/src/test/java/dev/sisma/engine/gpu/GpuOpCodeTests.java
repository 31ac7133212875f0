package dev.sisma.engine.gpu;

import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * An op code the kernels do not know fails loudly: every output is NaN, never the result of
 * another op (a new enum constant without its kernel case would otherwise run silently as the
 * switch's last case). Every known code is checked against its definition by the conformance suite.
 * Run on each GPU backend (OpenClOpCodeTest, CudaOpCodeTest).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GpuOpCodeTests implements GpuUnderTest {
    private static final int N = 300;
    private GpuBackend<?> gpu;

    @BeforeAll
    void open() {
        gpu = (GpuBackend<?>) openOrNull();
    }

    @AfterAll
    void close() {
        if (gpu != null) gpu.close();
    }

    private float[] run(String kernel, int code, boolean strided) {
        require(gpu);
        float[] x = new float[N];
        for (int i = 0; i < N; i++) x[i] = 0.5f + i;
        try (DeviceBuffer a = gpu.upload(x); DeviceBuffer y = gpu.allocate(N)) {
            long[] one = {1};
            if (strided) {
                long[] st = new long[4 * 6 + 5];
                st[0] = N;           // shape
                st[6] = 1;           // a's stride
                st[12] = 1;          // b's stride
                st[18] = 1;          // the output's
                st[24] = 1;          // rank
                st[25] = N;          // count
                gpu.gpu().launch(kernel, new long[] {N}, new long[] {128}, code, a, a, y, GpuBackend.longs(st));
            } else if (kernel.equals("sk_reduce")) {
                gpu.gpu().launch(kernel, new long[] {N}, new long[] {128}, code, a, y, N, 1, 1);
            } else {
                gpu.gpu().launch(kernel, new long[] {N}, new long[] {128}, code, a, y, (long) N);
            }
            float[] out = new float[N];
            gpu.download(y, 0, out, 0, N);
            return out;
        }
    }

    private static void assertAllNaN(String what, float[] v) {
        for (float f : v) assertTrue(Float.isNaN(f), what + " gave " + f + " instead of NaN");
    }

    @Test
    void anUnknownUnaryCodeGivesNaN() {
        assertAllNaN("unary code " + UnaryOp.values().length, run("sk_unary_fwd", UnaryOp.values().length, false));
        // the last known code still computes (1/x), so the NaN above is the default case, not a broken launch
        float[] r = run("sk_unary_fwd", OpCodes.code(UnaryOp.RECIPROCAL), false);
        assertTrue(Math.abs(r[1] - 1 / 1.5f) < 1e-6, "reciprocal of 1.5 gave " + r[1]);
    }

    @Test
    void anUnknownBinaryOrCompareCodeGivesNaN() {
        int unknown = BinaryOp.values().length + CompareOp.values().length;
        assertAllNaN("binary code " + unknown, run("sk_binary", unknown, true));
        float[] r = run("sk_binary", OpCodes.code(CompareOp.GE), true);
        assertTrue(r[7] == 1f, "x >= x gave " + r[7]);
    }

    @Test
    void anUnknownReduceCodeGivesNaN() {
        assertAllNaN("reduce code " + ReduceOp.values().length, run("sk_reduce", ReduceOp.values().length, false));
    }
}
