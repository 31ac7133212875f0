package dev.sisma.model.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.engine.Backends;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.SafeTensorsWriter;
import dev.sisma.model.GoldenParityTest;

class ForwardCommandTest {
    static CpuBackend be;
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    ForwardCommand command() {
        Backends b = mock(Backends.class);
        when(b.current()).thenReturn(Optional.of(be));
        when(b.byName("cpu")).thenReturn(Optional.of(be));
        when(b.byName("cuda")).thenReturn(Optional.empty());
        return new ForwardCommand(b);
    }

    CommandContext ctx() {
        PrintStream ps = new PrintStream(out, true);
        return new CommandContext() {
            public PrintStream out() { return ps; }
            public PrintStream err() { return ps; }
            public InputStream in() { return InputStream.nullInputStream(); }
            public Path workingDirectory() { return dir; }
        };
    }

    Path config() throws Exception {
        Path c = dir.resolve("golden.json");
        GoldenParityTest.goldenConfig(false).write(c);
        return c;
    }

    int run(String... args) throws Exception {
        return command().run(List.of(args), ctx());
    }

    @Test
    void writesTheGoldenVelocity() throws Exception {
        Path w = GoldenParityTest.golden("weights.safetensors"), in = GoldenParityTest.golden("inputs.safetensors");
        assertEquals(0, run("--config", config().toString(), "--weights", w.toString(), "--inputs", in.toString(),
                "--out", "v.safetensors", "--backend", "cpu"));
        try (SafeTensorsFile v = SafeTensorsFile.open(dir.resolve("v.safetensors"));
                SafeTensorsFile ref = SafeTensorsFile.open(GoldenParityTest.golden("outputs.safetensors"))) {
            assertTrue(GoldenParityTest.relError(v.readFloats("v"), ref.readFloats("v")) < 1e-4);
            assertEquals(List.of(2L, 4L, 16L, 16L), java.util.Arrays.stream(v.info("v").shape()).boxed().toList());
        }
        try (var s = Files.list(dir)) {
            assertEquals(2, s.count(), "only the config and v, no temp file");
        }
    }

    @Test
    void badInputsNameTheTensorAndBothShapes() throws Exception {
        Path w = GoldenParityTest.golden("weights.safetensors");
        String cfg = config().toString();
        Path in = dir.resolve("in.safetensors");
        new SafeTensorsWriter().add("x", new long[] {2, 3, 16, 16}, new float[2 * 3 * 256])
                .add("t", new long[] {2}, new float[2]).write(in);
        InputException e = assertThrows(InputException.class,
                () -> run("--config", cfg, "--weights", w.toString(), "--inputs", in.toString(), "--out", "o.safetensors"));
        assertEquals(in + ": tensor x: expected shape [B, 4, 16, 16], found [2, 3, 16, 16]", e.getMessage());

        new SafeTensorsWriter().add("x", new long[] {2, 4, 16, 16}, new float[2 * 4 * 256])
                .add("t", new long[] {2}, new float[2]).write(in);
        e = assertThrows(InputException.class,
                () -> run("--config", cfg, "--weights", w.toString(), "--inputs", in.toString(), "--out", "o.safetensors"));
        assertEquals(in + ": tensor mask: missing (expected shape [2, 19, 32, 32])", e.getMessage());

        new SafeTensorsWriter().add("x", new long[] {2, 4, 16, 16}, new float[2 * 4 * 256])
                .add("t", new long[] {3}, new float[3]).write(in);
        e = assertThrows(InputException.class,
                () -> run("--config", cfg, "--weights", w.toString(), "--inputs", in.toString(), "--out", "o.safetensors"));
        assertEquals(in + ": tensor t: expected shape [2], found [3]", e.getMessage());
        assertTrue(Files.notExists(dir.resolve("o.safetensors")));
    }

    @Test
    void badWeightsNameTheTensorAndBothShapes() throws Exception {
        Path in = GoldenParityTest.golden("inputs.safetensors");
        // weights of another width
        String wide = dir.resolve("wide.json").toString();
        GoldenParityTest.goldenConfig(false).with("hidden", 48).write(Path.of(wide));
        InputException e = assertThrows(InputException.class, () -> run("--config", wide, "--weights",
                GoldenParityTest.golden("weights.safetensors").toString(), "--inputs", in.toString(), "--out", "o.safetensors"));
        assertTrue(e.getMessage().matches(".*weights\\.safetensors: tensor x_embedder\\.proj\\.weight: expected shape \\[48, 4, 2, 2\\], found \\[32, 4, 2, 2\\]"),
                e.getMessage());
        // no config anywhere
        e = assertThrows(InputException.class, () -> run("--weights", GoldenParityTest.golden("weights.safetensors").toString(),
                "--inputs", in.toString(), "--out", "o.safetensors"));
        assertTrue(e.getMessage().contains("no model config in the metadata"), e.getMessage());
        // not a safetensors file
        Path junk = dir.resolve("junk.safetensors");
        Files.writeString(junk, "hello");
        e = assertThrows(InputException.class, () -> run("--config", config().toString(), "--weights", junk.toString(),
                "--inputs", in.toString(), "--out", "o.safetensors"));
        assertTrue(e.getMessage().contains("junk.safetensors"), e.getMessage());
        e = assertThrows(InputException.class, () -> run("--config", config().toString(), "--weights", "nope.safetensors",
                "--inputs", in.toString(), "--out", "o.safetensors"));
        assertEquals(dir.resolve("nope.safetensors") + ": no such file", e.getMessage());
        e = assertThrows(InputException.class, () -> run("--config", config().toString(), "--weights", junk.toString(),
                "--inputs", in.toString(), "--out", "o.safetensors", "--backend", "cuda"));
        assertTrue(e.getMessage().contains("'cuda' is not registered"), e.getMessage());
        assertThrows(UsageException.class, () -> run("--weights", "w"));
    }
}
