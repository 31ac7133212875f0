package dev.sisma.model.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.nio.file.Path;
import java.util.ArrayList;
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
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.Backends;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.BundledModels;
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
        return generator(be);
    }

    /** A generator whose backend in use (and "cpu") is {@code backend}. */
    static SismaGenerator generator(Backend backend) {
        Backends b = mock(Backends.class);
        when(b.current()).thenReturn(Optional.of(backend));
        when(b.byName("cpu")).thenReturn(Optional.of(backend));
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

    /** The CPU backend, noting the format of every weight uploaded as 16-bit floats (what halfLinearWeights does per Linear). */
    static Backend recordingHalfUploads(List<DType> uploads) {
        return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class}, (proxy, method, args) -> {
            if (method.getName().equals("uploadHalf")) {
                uploads.add((DType) args[1]);
            }
            try {
                return method.invoke(be, args);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
        });
    }

    /** The number of Linear layers of the model in {@code file}: the 16-bit uploads that one load in BF16/F16 makes. */
    static int linearLayers(Path file) {
        try (Sisma m = Checkpoints.loadModel(file, null, be, WeightFormat.F32)) {
            return m.halfLinearWeights(DType.BF16);
        }
    }

    /** The images' pixels one after the other. */
    static int[] rgb(List<GeneratedImage> images) {
        return images.stream().flatMapToInt(i -> java.util.Arrays.stream(i.rgb())).toArray();
    }

    static int maxPixelDifference(int[] a, int[] b) {
        assertEquals(a.length, b.length);
        int d = 0;
        for (int i = 0; i < a.length; i++) {
            for (int sh = 0; sh < 24; sh += 8) {
                d = Math.max(d, Math.abs((a[i] >> sh & 255) - (b[i] >> sh & 255)));
            }
        }
        return d;
    }

    /**
     * A request's weight format is the one the model runs with: the bundled demo model in BF16 has its
     * Linear weights uploaded as BF16, and its 25-step image stays within a few levels of the
     * float32 one without being the same (bound as in HalfWeightsAccuracyTest).
     */
    @Test
    void aRequestInBf16RunsTheModelWithBf16LinearWeights() throws Exception {
        List<DType> uploads = new ArrayList<>();
        SismaGenerator g = generator(recordingHalfUploads(uploads));
        try {
            int linears = linearLayers(g.model(BundledModels.DEFAULT).orElseThrow());
            // two samples: more pixels where a rounding of the weights can show after the 8-bit quantisation
            GenerationRequest f32 = new GenerationRequest(mask(13), 2, 42, 25, "euler", 1.0, null, null, null, WeightFormat.F32);
            int[] a = rgb(g.generate(f32, Progress.NONE));
            assertEquals(List.of(), uploads, "float32 weights stay float32");
            GenerationRequest bf16 = new GenerationRequest(mask(13), 2, 42, 25, "euler", 1.0, null, null, null, WeightFormat.BF16);
            int[] b = rgb(g.generate(bf16, Progress.NONE));
            assertTrue(linears > 10, "the demo model has its Linear layers, got " + linears);
            assertEquals(java.util.Collections.nCopies(linears, DType.BF16), uploads, "every Linear weight uploaded as BF16");
            int dp = maxPixelDifference(a, b);
            assertTrue(dp > 0, "BF16 weights give exactly the float32 image: were they rounded?");
            assertTrue(dp <= 8, "BF16 image differs from the float32 one by " + dp + " levels (bound 8)");
        } finally {
            g.deactivate();
        }
    }

    /**
     * The loaded model is kept for requests in the same weight format and loaded again for another;
     * a request without one takes the system property sisma.weights, and one with a format wins over it.
     */
    @Test
    void weightFormatIsPartOfTheLoadedModelAndThePropertyOnlyADefault() throws Exception {
        List<DType> uploads = new ArrayList<>();
        SismaGenerator g = generator(recordingHalfUploads(uploads));
        int linears = linearLayers(checkpoint);
        String before = System.getProperty(Checkpoints.WEIGHTS_PROPERTY);
        try {
            java.util.function.Function<WeightFormat, GenerationRequest> asked = w ->
                    new GenerationRequest(mask(13), 1, 5, 2, "euler", 1.0, checkpoint, null, null, w);
            g.generate(asked.apply(WeightFormat.F16), Progress.NONE);
            assertEquals(java.util.Collections.nCopies(linears, DType.F16), uploads);
            g.generate(asked.apply(WeightFormat.F16), Progress.NONE);
            assertEquals(linears, uploads.size(), "the same format keeps the loaded model");
            g.generate(asked.apply(WeightFormat.BF16), Progress.NONE);
            assertEquals(2 * linears, uploads.size(), "another format loads the model again");
            assertEquals(DType.BF16, uploads.get(uploads.size() - 1));
            System.setProperty(Checkpoints.WEIGHTS_PROPERTY, "bf16");
            g.generate(asked.apply(null), Progress.NONE);
            assertEquals(2 * linears, uploads.size(), "no format: the property's bf16, the model loaded in bf16 already");
            g.generate(asked.apply(WeightFormat.F32), Progress.NONE);
            assertEquals(2 * linears, uploads.size(), "a request's f32 wins over the property");
            System.setProperty(Checkpoints.WEIGHTS_PROPERTY, "f16");
            g.generate(asked.apply(null), Progress.NONE);
            assertEquals(3 * linears, uploads.size());
            assertEquals(DType.F16, uploads.get(uploads.size() - 1));
            System.setProperty(Checkpoints.WEIGHTS_PROPERTY, "fp8");
            InputException e = assertThrows(InputException.class, () -> g.generate(asked.apply(null), Progress.NONE));
            assertEquals("-Dsisma.weights=fp8: unknown weight format 'fp8'; choices: f32, bf16, f16", e.getMessage());
        } finally {
            if (before == null) {
                System.clearProperty(Checkpoints.WEIGHTS_PROPERTY);
            } else {
                System.setProperty(Checkpoints.WEIGHTS_PROPERTY, before);
            }
            g.deactivate();
        }
    }
}
