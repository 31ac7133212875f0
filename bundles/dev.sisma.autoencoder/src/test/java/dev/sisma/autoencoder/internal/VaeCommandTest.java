package dev.sisma.autoencoder.internal;

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
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.engine.Backends;
import dev.sisma.engine.cpu.CpuBackend;

class VaeCommandTest {
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

    VaeCommand command() {
        Backends b = mock(Backends.class);
        when(b.current()).thenReturn(Optional.of(be));
        when(b.byName("cpu")).thenReturn(Optional.of(be));
        when(b.byName("cuda")).thenReturn(Optional.empty());
        AutoencoderRegistry r = new AutoencoderRegistry();
        r.addProvider(new Taef2Provider());
        r.addProvider(new SdVaeProvider());
        return new VaeCommand(b, r);
    }

    int run(String... args) throws Exception {
        PrintStream ps = new PrintStream(out, true);
        return command().run(List.of(args), new CommandContext() {
            public PrintStream out() { return ps; }
            public PrintStream err() { return ps; }
            public InputStream in() { return InputStream.nullInputStream(); }
            public Path workingDirectory() { return dir; }
        });
    }

    static Path photo(String name) {
        return Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini", "CelebA-HQ-img", name);
    }

    @Test
    void roundTripPrintsPsnrAndWritesTheReconstruction() throws Exception {
        assertEquals(0, run("roundtrip", "--image", photo("1.jpg").toString(), "--size", "128", "--out", "r.png", "--backend", "cpu"));
        String text = out.toString();
        Matcher m = Pattern.compile("taef2: 1.jpg at 128x128 -> latent 32x16x16 -> PSNR ([0-9.]+) dB").matcher(text);
        assertTrue(m.find(), text);
        assertTrue(Double.parseDouble(m.group(1)) > 25, text);
        var img = ImageFiles.read(dir.resolve("r.png"));
        assertEquals(128, img.getWidth());
        assertEquals(128, img.getHeight());
    }

    @Test
    void sdVaeFromAFile() throws Exception {
        Path vae = GoldenParityTest.golden("sdvae_small.safetensors");
        assertEquals(0, run("roundtrip", "--image", photo("0.jpg").toString(), "--size", "16", "--vae", vae.toString()));
        assertTrue(out.toString().startsWith("sd-vae (sdvae_small.safetensors): 0.jpg at 16x16 -> latent 4x8x8 -> PSNR "), out.toString());
    }

    @Test
    void badInputIsOneLineNamingTheFile() throws Exception {
        InputException e = assertThrows(InputException.class, () -> run("roundtrip", "--image", "nothere.png"));
        assertEquals(dir.resolve("nothere.png") + ": no such file", e.getMessage());

        Path corrupt = Files.write(dir.resolve("corrupt.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0});
        e = assertThrows(InputException.class, () -> run("roundtrip", "--image", corrupt.toString()));
        assertTrue(e.getMessage().startsWith(corrupt + ": "), e.getMessage());

        Path cut = Files.write(dir.resolve("cut.safetensors"), Arrays.copyOf(Files.readAllBytes(GoldenParityTest.golden("sdvae_small.safetensors")), 5000));
        e = assertThrows(InputException.class, () -> run("roundtrip", "--image", photo("0.jpg").toString(), "--vae", "cut.safetensors"));
        assertTrue(e.getMessage().startsWith(cut + ": "), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());

        e = assertThrows(InputException.class, () -> run("roundtrip", "--image", photo("0.jpg").toString(), "--backend", "cuda"));
        assertEquals("compute backend 'cuda' is not registered", e.getMessage());
    }

    @Test
    void badUsage() {
        assertThrows(UsageException.class, () -> run("--image", "x.png"));
        assertThrows(UsageException.class, () -> run("encode", "--image", "x.png"));
        assertThrows(UsageException.class, () -> run("roundtrip"));
        UsageException e = assertThrows(UsageException.class, () -> run("roundtrip", "--image", photo("0.jpg").toString(), "--size", "100"));
        assertTrue(e.getMessage().contains("multiple of 8"), e.getMessage());
        assertTrue(command().usage().contains("sd-vae"));
    }
}
