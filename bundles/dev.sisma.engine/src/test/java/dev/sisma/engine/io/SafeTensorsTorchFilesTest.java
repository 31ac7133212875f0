package dev.sisma.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.net.URISyntaxException;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Files written from PyTorch tensors by src/test/python/make_safetensors_fixtures.py. */
class SafeTensorsTorchFilesTest {
    @TempDir
    Path dir;

    private static Path resource(String name) throws URISyntaxException {
        return Path.of(SafeTensorsTorchFilesTest.class.getResource(name).toURI());
    }

    private static void assertBitsEqual(float[] expected, float[] actual, String what) {
        assertEquals(expected.length, actual.length, what);
        for (int i = 0; i < expected.length; i++) {
            // NaN payloads may differ between converters; everything else must match bit for bit
            if (!(Float.isNaN(expected[i]) && Float.isNaN(actual[i]))) {
                assertEquals(Float.floatToRawIntBits(expected[i]), Float.floatToRawIntBits(actual[i]),
                        what + "[" + i + "]: " + expected[i] + " vs " + actual[i]);
            }
        }
    }

    @Test
    void readsEveryDtypeAsPyTorchConvertsIt() throws Exception {
        try (SafeTensorsFile f = SafeTensorsFile.open(resource("torch_mixed.safetensors"))) {
            assertEquals(Map.of("format", "pt", "source", "make_safetensors_fixtures.py", "note", "\u00e9\u00e8 \"q\""),
                    f.metadata());
            float[] r32 = f.readFloats("f32.ramp");
            assertArrayEquals(new long[] {2, 3, 4}, f.info("f32.ramp").shape());
            for (int i = 0; i < 24; i++) {
                assertEquals((i - 12) * 0.25f, r32[i]);
            }
            assertEquals(DType.F16, f.info("f16.ramp").dtype());
            float[] r16 = f.readFloats("f16.ramp");
            for (int i = 0; i < 15; i++) {
                assertEquals((i - 7) * 0.5f, r16[i]);
            }
            assertEquals(DType.BF16, f.info("bf16.ramp").dtype());
            float[] rb = f.readFloats("bf16.ramp");
            for (int i = 0; i < 16; i++) {
                assertEquals((i - 8) * 0.125f, rb[i]);
            }
            assertArrayEquals(new float[] {3.5f}, f.readFloats("f32.scalar"));
            assertEquals(0, f.info("f32.scalar").rank());
            assertArrayEquals(new long[] {0, 3}, f.info("f32.empty").shape());
            assertArrayEquals(new long[] {2, 0}, f.info("bf16.empty").shape());
            assertEquals(0, f.readFloats("bf16.empty").length);
            for (String k : new String[] {"f16.random", "bf16.random", "f16.special", "bf16.special"}) {
                assertBitsEqual(f.readFloats("expected." + k), f.readFloats(k), k);
            }
        }
    }

    @Test
    void writesF16AndBf16AsPyTorchRoundsThem() throws Exception {
        Path p = dir.resolve("round.safetensors");
        try (SafeTensorsFile torch = SafeTensorsFile.open(resource("torch_mixed.safetensors"))) {
            float[] src = torch.readFloats("round.src");
            new SafeTensorsWriter()
                    .add("f16", DType.F16, torch.info("round.f16").shape(), src, 0)
                    .add("bf16", DType.BF16, torch.info("round.bf16").shape(), src, 0)
                    .write(p);
            try (SafeTensorsFile mine = SafeTensorsFile.open(p)) {
                assertEquals(-1L, torch.segment("round.f16").mismatch(mine.segment("f16")));
                assertEquals(-1L, torch.segment("round.bf16").mismatch(mine.segment("bf16")));
            }
        }
    }

    @Test
    void plainFileWithoutMetadata() throws Exception {
        try (SafeTensorsFile f = SafeTensorsFile.open(resource("torch_plain.safetensors"))) {
            assertEquals(Map.of(), f.metadata());
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, f.readFloats("w"));
        }
    }

    @Test
    void javaWrittenFileHasTheReferenceLayout() throws IOException, URISyntaxException {
        // Same tensors, same order and metadata as torch_plain: byte-identical file.
        Path p = dir.resolve("plain.safetensors");
        new SafeTensorsWriter().add("w", new long[] {2, 3}, new float[] {0, 1, 2, 3, 4, 5}).write(p);
        assertArrayEquals(java.nio.file.Files.readAllBytes(resource("torch_plain.safetensors")),
                java.nio.file.Files.readAllBytes(p));
    }
}
