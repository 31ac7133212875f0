package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Set;
import java.util.SplittableRandom;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * Weights given as BF16 / F16 ({@code Backend.uploadHalf}): the CPU backend keeps them at 16
 * bits and widens them in the GEMM's packing, bit for bit the product of the same values given
 * as float32 (odd M/N/K tails, both B layouts, a batch sharing one weight, beta, the bias); any
 * other read widens the buffer for good with the same values; the default (composite) widens on
 * upload; a bad format or size is a clear error.
 */
class HalfWeightsTest {
    private static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Random 16-bit floats in [-1, 1) as they would sit in a file, and their float32 values (widened by the format's definition). */
    private static MemorySegment halves(Arena arena, DType format, int count, long seed, float[] widened) {
        MemorySegment s = arena.allocate(2L * count);
        SplittableRandom r = new SplittableRandom(seed);
        for (int i = 0; i < count; i++) {
            float v = (float) (r.nextDouble() * 2 - 1);
            short h;
            if (format == DType.BF16) {
                h = (short) (Float.floatToRawIntBits(v) >>> 16); // truncation: any BF16 value will do
                widened[i] = Float.intBitsToFloat((h & 0xffff) << 16);
            } else {
                h = Float.floatToFloat16(v);
                widened[i] = Float.float16ToFloat(h);
            }
            s.setAtIndex(I16, i, h);
        }
        return s;
    }

    private static float[] product(CpuBackend be, boolean tb, int batch, int m, int n, int k, DeviceBuffer a, DeviceBuffer w,
                                   float beta, float[] c0, DeviceBuffer bias) {
        try (DeviceBuffer c = be.upload(c0)) {
            be.gemm(false, tb, batch, m, n, k, 0.5f, a, (long) m * k, w, 0, beta, c, bias);
            float[] out = new float[c0.length];
            be.download(c, 0, out, 0, out.length);
            return out;
        }
    }

    private static void check(CpuBackend be, DType format, boolean tb, int batch, int m, int n, int k, float beta, boolean withBias) {
        String what = format + " " + batch + "x" + m + "x" + n + "x" + k + " tb=" + tb;
        SplittableRandom r = new SplittableRandom(m * 31L + n * 7L + k);
        float[] av = new float[batch * m * k], c0 = new float[batch * m * n], bv = new float[n], wv = new float[n * k];
        for (int i = 0; i < av.length; i++) av[i] = (float) r.nextGaussian();
        for (int i = 0; i < c0.length; i++) c0[i] = (float) r.nextGaussian();
        for (int i = 0; i < n; i++) bv[i] = (float) r.nextGaussian();
        try (Arena arena = Arena.ofConfined(); DeviceBuffer a = be.upload(av); DeviceBuffer bias = withBias ? be.upload(bv) : null) {
            MemorySegment h = halves(arena, format, n * k, 9, wv);
            try (DeviceBuffer w16 = be.uploadHalf(h, format); DeviceBuffer w32 = be.upload(wv)) {
                float[] want = product(be, tb, batch, m, n, k, a, w32, beta, c0, bias);
                for (int call = 0; call < 3; call++) // the same float32 weight every call
                    assertArrayEquals(want, product(be, tb, batch, m, n, k, a, w32, beta, c0, bias), "float32 weight, call " + call + ": " + what);
                for (int call = 0; call < 3; call++)
                    assertArrayEquals(want, product(be, tb, batch, m, n, k, a, w16, beta, c0, bias), "16-bit weight, call " + call + ": " + what);
                // any other read widens it for good: same values, same products
                float[] down = new float[n * k];
                be.download(w16, 0, down, 0, down.length);
                assertArrayEquals(wv, down, "widened values: " + what);
                assertArrayEquals(want, product(be, tb, batch, m, n, k, a, w16, beta, c0, bias), "after widening: " + what);
            }
        }
    }

    @Test
    void halfWeightsMultiplyAsTheirFloat32Values() {
        try (CpuBackend one = new CpuBackend(1); CpuBackend two = new CpuBackend(2)) {
            for (DType f : new DType[] {DType.BF16, DType.F16}) {
                check(one, f, true, 1, 1, 1, 1, 0f, false);
                check(one, f, true, 1, 7, 47, 5, 0f, true);
                check(two, f, true, 1, 33, 97, 257, 0.5f, true);
                check(two, f, true, 1, 2, 200, 1031, 0f, true);
                check(one, f, false, 1, 9, 50, 33, 1f, true);
                check(two, f, true, 3, 13, 65, 129, 0f, true);
            }
        }
    }

    @Test
    void theDefaultWidensOnUpload() {
        try (CpuBackend cpu = new CpuBackend(1); Arena arena = Arena.ofConfined()) {
            Backend composites = new PrimitivesOnly(cpu, Set.of());
            for (DType f : new DType[] {DType.BF16, DType.F16}) {
                float[] want = new float[1000], got = new float[1000];
                try (DeviceBuffer b = composites.uploadHalf(halves(arena, f, 1000, 3, want), f)) {
                    assertEquals(1000, b.size());
                    composites.download(b, 0, got, 0, got.length);
                }
                assertArrayEquals(want, got, f.name());
            }
        }
    }

    @Test
    void badFormatOrSizeIsAClearError() {
        try (CpuBackend cpu = new CpuBackend(1); Arena arena = Arena.ofConfined()) {
            MemorySegment odd = arena.allocate(3);
            assertThrows(IllegalArgumentException.class, () -> cpu.uploadHalf(odd, DType.BF16));
            assertThrows(IllegalArgumentException.class, () -> cpu.uploadHalf(arena.allocate(8), DType.F32));
            Backend composites = new PrimitivesOnly(cpu, Set.of());
            assertThrows(IllegalArgumentException.class, () -> composites.uploadHalf(odd, DType.F16));
        }
    }
}
