package dev.sisma.model.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.SamplingDefaults;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.Backends;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;

class SismaGeneratorTest {
    static CpuBackend be;
    @TempDir
    static Path dir;
    static Path checkpoint;

    @BeforeAll
    static void start() throws Exception {
        be = new CpuBackend(2);
        SismaConfig cfg = SismaConfig.named("demo").with("name", "tiny", "depth", 1, "hidden", 16, "patch", 2, "input_size", 8,
                "image_size", 8, "d_state", 4);
        try (Sisma m = new Sisma(cfg, be)) {
            // make the zero-initialised final layer non-zero so images depend on the mask
            long k = 1;
            for (Parameter p : m.namedParameters().values()) {
                try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                    p.set(Tensor.randn(be, k++, 0, p.value().shape().dims()).mul(0.2f));
                }
            }
            checkpoint = dir.resolve("tiny.safetensors");
            Checkpoints.save(m, checkpoint, Map.of("note", "test"));
        }
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    static SismaGenerator generator() {
        Backends b = mock(Backends.class);
        when(b.current()).thenReturn(Optional.of(be));
        when(b.byName("cpu")).thenReturn(Optional.of(be));
        SismaGenerator g = new SismaGenerator(b);
        Samplers.builtIn().forEach(g::addSampler);
        return g;
    }

    static Mask mask(int cls) {
        byte[] c = new byte[64 * 64];
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) (i % 64 < 32 ? 1 : cls); // left half skin, right half cls
        }
        return new Mask(64, 64, c);
    }

    static GenerationRequest request(Mask m, int samples, long seed, double cfg, Path ckpt) {
        return new GenerationRequest(m, samples, seed, 4, "heun", cfg, ckpt, null);
    }

    @Test
    void generatesReproducibleImagesPerSeed() {
        SismaGenerator g = generator();
        assertEquals(List.of("euler", "heun"), g.samplers());
        int[] steps = new int[1];
        List<GeneratedImage> three = g.generate(request(mask(13), 3, 100, 1.0, checkpoint), (d, t, sps) -> steps[0] = d);
        assertEquals(4, steps[0]);
        assertEquals(3, three.size());
        assertEquals(List.of(100L, 101L, 102L), three.stream().map(GeneratedImage::seed).toList());
        assertEquals(8, three.get(0).width());
        assertFalse(java.util.Arrays.equals(three.get(0).rgb(), three.get(1).rgb()));
        // sample i depends only on seed + i: regenerating it alone gives the same pixels
        List<GeneratedImage> alone = g.generate(request(mask(13), 1, 101, 1.0, checkpoint), Progress.NONE);
        assertArrayEquals(three.get(1).rgb(), alone.get(0).rgb());
        // the mask matters, and guidance runs
        assertFalse(java.util.Arrays.equals(alone.get(0).rgb(), g.generate(request(mask(17), 1, 101, 1.0, checkpoint), Progress.NONE).get(0).rgb()));
        assertFalse(java.util.Arrays.equals(alone.get(0).rgb(), g.generate(request(mask(13), 1, 101, 2.0, checkpoint), Progress.NONE).get(0).rgb()));
    }

    @Test
    void clearErrors() {
        SismaGenerator g = generator();
        // without a checkpoint the bundled demo model (32x32 pixel space) paints
        GeneratedImage demo = g.generate(request(mask(2), 1, 1, 1.0, null), Progress.NONE).get(0);
        assertEquals(32, demo.width());
        InputException e = assertThrows(InputException.class, () -> g.generate(request(mask(2), 1, 1, 1.0, dir.resolve("none.safetensors")), Progress.NONE));
        assertTrue(e.getMessage().contains("none.safetensors: cannot read checkpoint: no such file"), e.getMessage());
        e = assertThrows(InputException.class, () -> g.generate(new GenerationRequest(mask(2), 1, 1, 2, "dpm", 1, checkpoint, null), Progress.NONE));
        assertTrue(e.getMessage().contains("unknown sampler 'dpm'"), e.getMessage());
        e = assertThrows(InputException.class, () -> g.generate(new GenerationRequest(mask(2), 1, 1, 2, "euler", 1, checkpoint, "cuda"), Progress.NONE));
        assertTrue(e.getMessage().contains("'cuda' is not registered"), e.getMessage());
        assertThrows(CancellationException.class, () -> g.generate(request(mask(2), 1, 1, 1.0, checkpoint), new Progress() {
            public void step(int done, int total, double sps) {
            }

            public boolean cancelled() {
                return true;
            }
        }));
    }

    /** The defaults a user interface shows are the ones a request that leaves them open runs with. */
    @Test
    void defaultsAreTheConfigsAndWhatARequestRunsWith() {
        SismaGenerator g = generator();
        SismaConfig demo = SismaConfig.named("demo");
        SamplingDefaults d = g.defaults(null).orElseThrow();
        assertEquals(new SamplingDefaults(demo.sampler(), demo.sampleSteps(), demo.cfgScale()), d);
        assertEquals(SismaGenerator.defaultsOf(demo), d);
        SismaConfig tiny = SismaConfig.named("demo").with("name", "tiny", "sample_steps", 3, "sampler", "euler", "cfg_scale", 1.25);
        // the file's config, read without loading the weights
        assertEquals(new SamplingDefaults("heun", demo.sampleSteps(), demo.cfgScale()), g.defaults(checkpoint).orElseThrow());
        int[] total = new int[1];
        g.generate(new GenerationRequest(mask(2), 1, 1, 0, null, Double.NaN, checkpoint, null), (done, t, sps) -> total[0] = t);
        assertEquals(g.defaults(checkpoint).orElseThrow().steps(), total[0], "a request that leaves steps open runs the defaults' steps");
        assertEquals(new SamplingDefaults("euler", 3, 1.25), SismaGenerator.defaultsOf(tiny));
        InputException e = assertThrows(InputException.class, () -> g.defaults(dir.resolve("none.safetensors")));
        assertTrue(e.getMessage().contains("none.safetensors"), e.getMessage());
    }

    @Test
    void latentModelsNeedTheirAutoencoder() throws Exception {
        Path latent = dir.resolve("latent.safetensors");
        SismaConfig cfg = SismaConfig.named("sisma-S/2").with("depth", 1, "hidden", 16, "input_size", 4, "image_size", 8);
        try (Sisma m = new Sisma(cfg, be)) {
            Checkpoints.save(m, latent, null);
        }
        InputException e = assertThrows(InputException.class, () -> generator().generate(request(mask(2), 1, 1, 1.0, latent), Progress.NONE));
        assertTrue(e.getMessage().startsWith(latent.toString()) && e.getMessage().contains("autoencoder sd-vae")
                && e.getMessage().contains("no autoencoder service"), e.getMessage());
        assertEquals(List.of("demo-32", "demo-256"), generator().models());
        assertTrue(generator().model("demo-32").isPresent());
        assertTrue(generator().model("nonesuch").isEmpty());
    }
}
