package dev.sisma.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafeTensorsRoundTripTest {
    @TempDir
    Path dir;

    private static float[] ramp(int n, float scale) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (i - n / 2) * scale + 0.1f * i * i;
        }
        return a;
    }

    @Test
    void f32WithMetadataScalarsAndEmptyTensors() throws IOException {
        Path p = dir.resolve("rt.safetensors");
        float[] a = ramp(24, 0.37f);
        float[] special = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, -0.0f, Float.MIN_VALUE,
                Float.MAX_VALUE};
        String odd = "blocks.0/\u00fc \"quoted\"\\";
        new SafeTensorsWriter()
                .putMetadata("format", "pt")
                .putMetadata(Map.of("config", "{\"depth\": 4}\n"))
                .add("a", new long[] {2, 3, 4}, a)
                .add("scalar", new long[] {}, new float[] {42.5f})
                .add("empty", new long[] {0, 3}, new float[0])
                .add(odd, new long[] {6}, special)
                .add("empty2", new long[] {0}, new float[0])
                .write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(Map.of("format", "pt", "config", "{\"depth\": 4}\n"), f.metadata());
            assertEquals(List.of("a", "scalar", "empty", odd, "empty2"), List.copyOf(f.names()));
            assertEquals(0, f.dataOffset() % 8, "data area 8-byte aligned");
            TensorInfo ia = f.info("a");
            assertEquals(DType.F32, ia.dtype());
            assertArrayEquals(new long[] {2, 3, 4}, ia.shape());
            assertEquals(24, ia.elementCount());
            assertArrayEquals(a, f.readFloats("a"));
            TensorInfo s = f.info("scalar");
            assertEquals(0, s.rank());
            assertEquals(1, s.elementCount());
            assertArrayEquals(new float[] {42.5f}, f.readFloats("scalar"));
            assertEquals(0, f.info("empty").elementCount());
            assertArrayEquals(new float[0], f.readFloats("empty"));
            assertEquals(0, f.segment("empty").byteSize());
            float[] back = f.readFloats(odd);
            for (int i = 0; i < special.length; i++) {
                assertEquals(Float.floatToRawIntBits(special[i]), Float.floatToRawIntBits(back[i]), "element " + i);
            }
            // ranged read into an offset
            float[] dst = new float[10];
            f.readFloats("a", 5, dst, 2, 7);
            for (int i = 0; i < 7; i++) {
                assertEquals(a[5 + i], dst[2 + i]);
            }
            // zero-copy view is little-endian file bytes
            MemorySegment seg = f.segment("a");
            assertEquals(96, seg.byteSize());
            assertEquals(a[3], seg.get(SafeTensorsFile.F32_LE, 12));
            assertTrue(seg.isReadOnly());
        }
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList(), "no temp file left behind");
        }
    }

    @Test
    void segmentsInAndOut() throws IOException {
        Path p = dir.resolve("seg.safetensors");
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment src = arena.allocate(4L * 1000, 4);
            for (int i = 0; i < 1000; i++) {
                src.setAtIndex(ValueLayout.JAVA_FLOAT, i, i * 0.5f - 3);
            }
            new SafeTensorsWriter().add("x", DType.F32, new long[] {10, 100}, src).write(p);
            try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
                MemorySegment dst = arena.allocate(4L * 1000, 4);
                f.readFloats("x", dst);
                assertEquals(-1L, src.mismatch(dst));
                SafeTensorsException e = assertThrows(SafeTensorsException.class,
                        () -> f.readFloats("x", arena.allocate(16)));
                assertEquals(p + ": x: needs 4000 bytes of float32 but the destination has 16", e.getMessage());
            }
        }
    }

    @Test
    void halfPrecisionWritesRoundToNearestEven() throws IOException {
        Path p = dir.resolve("half.safetensors");
        float[] v = {1.0f, 1.0009765625f + 1e-7f, 65520f, 1e-8f, -2.5f, Float.NaN, Float.POSITIVE_INFINITY, 3.0e38f};
        new SafeTensorsWriter().add("h", DType.F16, new long[] {8}, v, 0).add("b", DType.BF16, new long[] {8}, v, 0)
                .write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            float[] h = f.readFloats("h");
            float[] b = f.readFloats("b");
            for (int i = 0; i < v.length; i++) {
                assertEquals(Float.float16ToFloat(Float.floatToFloat16(v[i])), h[i], "F16 " + i);
            }
            assertEquals(1.0f, b[0]);
            assertEquals(Float.POSITIVE_INFINITY, h[2], "65520 rounds up to F16 infinity");
            assertTrue(Float.isNaN(b[5]) && Float.isNaN(h[5]));
            assertEquals(-2.5f, b[4]);
        }
    }

    @Test
    void rawCopyBetweenFiles() throws IOException {
        Path a = dir.resolve("a.safetensors");
        Path b = dir.resolve("b.safetensors");
        new SafeTensorsWriter().add("t", DType.BF16, new long[] {3}, new float[] {1, 2, 3}, 0).write(a);
        try (SafeTensorsFile fa = SafeTensorsFile.open(a)) {
            new SafeTensorsWriter().addRaw("t", DType.BF16, fa.info("t").shape(), fa.segment("t")).write(b);
        }
        try (SafeTensorsFile fb = SafeTensorsFile.open(b)) {
            assertArrayEquals(new float[] {1, 2, 3}, fb.readFloats("t"));
        }
    }

    @Test
    void overwriteIsAtomicAndAFailedWriteLeavesTheOldFile() throws IOException {
        Path p = dir.resolve("ckpt.safetensors");
        new SafeTensorsWriter().add("v", new long[] {2}, new float[] {1, 2}).write(p);
        new SafeTensorsWriter().add("v", new long[] {3}, new float[] {4, 5, 6}).write(p);
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertArrayEquals(new float[] {4, 5, 6}, f.readFloats("v"));
        }
        byte[] before = Files.readAllBytes(p);
        Arena arena = Arena.ofConfined();
        MemorySegment gone = arena.allocate(4L * 4);
        SafeTensorsWriter w = new SafeTensorsWriter().add("v", DType.F32, new long[] {4}, gone);
        arena.close(); // the source dies: the write fails half way
        assertThrows(IllegalStateException.class, () -> w.write(p));
        assertArrayEquals(before, Files.readAllBytes(p));
        try (Stream<Path> s = Files.list(dir)) {
            assertEquals(List.of(p), s.toList(), "temp file removed after the failure");
        }
    }

    @Test
    void misuseIsReported() throws IOException {
        Path p = dir.resolve("m.safetensors");
        new SafeTensorsWriter().add("v", new long[] {2}, new float[] {1, 2}).write(p);
        SafeTensorsFile f = SafeTensorsFile.open(p);
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> f.info("w"));
        assertEquals(p + ": w: no such tensor in the file", e.getMessage());
        assertFalse(f.contains("w"));
        e = assertThrows(SafeTensorsException.class, () -> f.readFloats("v", new float[1], 0));
        assertEquals(p + ": v: has 2 elements but the destination holds 1 from offset 0", e.getMessage());
        e = assertThrows(SafeTensorsException.class, () -> f.readFloats("v", 1, new float[4], 0, 2));
        assertEquals(p + ": v: elements [1, 3) are outside the tensor's 2", e.getMessage());
        MemorySegment view = f.segment("v");
        f.close();
        assertThrows(IllegalStateException.class, () -> view.get(ValueLayout.JAVA_BYTE, 0), "unmapped, not dangling");

        SafeTensorsWriter w = new SafeTensorsWriter().add("v", new long[] {2}, new float[] {1, 2});
        assertEquals("tensor \"v\" was already added",
                assertThrows(IllegalArgumentException.class, () -> w.add("v", new long[] {1}, new float[1])).getMessage());
        assertEquals("tensor \"u\": shape [3] needs 3 values but the array has 2 from offset 0",
                assertThrows(IllegalArgumentException.class, () -> w.add("u", new long[] {3}, new float[2])).getMessage());
        assertThrows(IllegalArgumentException.class, () -> w.add("__metadata__", new long[] {1}, new float[1]));
        assertThrows(IllegalArgumentException.class, () -> w.add("n", new long[] {-1}, new float[1]));
    }

    @Test
    void bf16RoundingMatchesTheDefinition() {
        assertEquals((short) 0x3F80, SafeTensorsWriter.toBf16(1.0f));
        // 1 + 2^-8 is a tie between 1.0 (even) and 1 + 2^-7: rounds to even
        assertEquals((short) 0x3F80, SafeTensorsWriter.toBf16(Float.intBitsToFloat(0x3F808000)));
        // 1 + 3 * 2^-8 is a tie between 1 + 2^-7 (odd) and 1 + 2^-6: rounds up to even
        assertEquals((short) 0x3F82, SafeTensorsWriter.toBf16(Float.intBitsToFloat(0x3F818000)));
        assertEquals((short) 0x3F81, SafeTensorsWriter.toBf16(Float.intBitsToFloat(0x3F808001)));
    }
}
