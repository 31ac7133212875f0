package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.internal.SismaGenerator;
import dev.sisma.model.sampling.Samplers;

/** Latent configs against an autoencoder: channels follow it, encode/decode through it, the generator decodes. */
class ImageSpaceTest {
    static final CpuBackend BE = new CpuBackend(2);

    @AfterAll
    static void stop() {
        BE.close();
    }

    /** A tiny latent config: 64x64 images, 8x8 latents of 4 channels, patch 2. */
    static SismaConfig tiny() {
        return SismaConfig.named("demo-256").with("name", "tiny-latent", "depth", 1, "hidden", 16, "d_state", 4,
                "image_size", 64, "input_size", 8, "in_channels", 4, "out_channels", 4, "autoencoder", "fake",
                "latent_scale", 2.0, "latent_shift", 0.5, "sample_steps", 2);
    }

    @Test
    void demo256NamesTaef2AndTheMaskKeepsTheImageSize() {
        SismaConfig c = SismaConfig.named("demo-256");
        assertEquals(SismaConfig.Space.LATENT, c.space());
        assertEquals("taef2", c.autoencoder());
        assertEquals(32, c.inChannels());
        assertEquals(256, c.imageSize());
        assertEquals(32, c.inputSize());
        assertEquals(256, c.tokens());
        assertEquals("sd-vae", SismaConfig.named("sisma-L/2").autoencoder());
        assertEquals(c, SismaConfig.parse(c.toJson(), "round trip"));
        // a config file from before the fields takes the defaults
        assertEquals("sd-vae", SismaConfig.parse("{\"name\": \"x\"}", "old").autoencoder());
    }

    @Test
    void channelsAndInputSizeFollowTheAutoencoder() {
        FakeAutoencoder ae = new FakeAutoencoder(BE, "fake", 1f);
        SismaConfig fitted = ImageSpace.fitTo(SismaConfig.named("demo-256").with("autoencoder", "fake"), ae);
        assertEquals(4, fitted.inChannels());
        assertEquals(4, fitted.outChannels());
        assertEquals(32, fitted.inputSize());
        SismaConfig t = tiny();
        assertSame(t, ImageSpace.fitTo(t, ae));
        InputException e = assertThrows(InputException.class, () -> ImageSpace.latent(SismaConfig.named("demo-256"), ae));
        assertTrue(e.getMessage().contains("32 latent") || e.getMessage().contains("do not match"), e.getMessage());
    }

    @Test
    void encodeAppliesShiftAndScaleAndDecodeUndoesThem() {
        FakeAutoencoder ae = new FakeAutoencoder(BE, "fake", 1f);
        try (Scope s = Scope.open(); ImageSpace space = ImageSpace.latent(tiny(), ae)) {
            float[] img = new float[3 * 64 * 64];
            java.util.Arrays.fill(img, 0.25f);
            Tensor z = space.encode(Tensor.of(BE, img, 1, 3, 64, 64));
            assertEquals(List.of(1, 4, 8, 8), java.util.Arrays.stream(z.shape().dims()).boxed().toList());
            assertEquals((0.25f - 0.5f) * 2f, z.toArray()[0], 1e-6);
            float[] back = space.decode(z).toArray();
            assertEquals(3 * 64 * 64, back.length);
            assertEquals(0.25f, back[100], 1e-6);
        }
    }

    @Test
    void cacheKeyChangesWithTheWeights() {
        try (ImageSpace a = ImageSpace.latent(tiny(), new FakeAutoencoder(BE, "fake", 1f));
             ImageSpace b = ImageSpace.latent(tiny(), new FakeAutoencoder(BE, "fake", 1.5f));
             ImageSpace a2 = ImageSpace.latent(tiny(), new FakeAutoencoder(BE, "fake", 1f))) {
            assertEquals(a.cacheKey(), a2.cacheKey());
            assertNotEquals(a.cacheKey(), b.cacheKey());
            assertTrue(a.cacheKey().contains("size=64"), a.cacheKey());
        }
    }

    @Test
    void generatorDecodesLatentSamplesToImageSize() {
        SismaConfig cfg = tiny();
        FakeAutoencoder ae = new FakeAutoencoder(BE, "fake", 1f);
        try (Sisma m = new Sisma(cfg, BE); ImageSpace space = ImageSpace.latent(cfg, ae)) {
            long k = 1;
            for (Parameter p : m.namedParameters().values()) {
                try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                    p.set(Tensor.randn(BE, k++, 0, p.value().shape().dims()).mul(0.2f));
                }
            }
            Mask mask = new Mask(32, 32, new byte[32 * 32]);
            List<GeneratedImage> imgs = SismaGenerator.generate(m, space, Samplers.byName("euler").orElseThrow(),
                    new GenerationRequest(mask, 2, 7, 2, "euler", 1.0, null, null), Progress.NONE);
            assertEquals(2, imgs.size());
            assertEquals(64, imgs.get(0).width());
            assertEquals(64, imgs.get(0).height());
            assertEquals(2, ae.decodeCalls);
            assertNotEquals(java.util.Arrays.hashCode(imgs.get(0).rgb()), java.util.Arrays.hashCode(imgs.get(1).rgb()));
            // without its image space a latent model is refused with a reason
            assertThrows(InputException.class, () -> SismaGenerator.generate(m, Samplers.byName("euler").orElseThrow(),
                    new GenerationRequest(mask, 1, 7, 2, "euler", 1.0, null, null), Progress.NONE));
        }
    }
}
