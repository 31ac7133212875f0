package dev.sisma.train.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.synth.SyntheticDataset;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.ImageSpace;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;

/** The latent cache: each image encoded once, reused across epochs and runs, re-encoded when the key changes. */
class LatentCacheTest {
    static final CpuBackend CPU = new CpuBackend(2);

    @TempDir
    Path dir;

    @AfterAll
    static void stop() {
        CPU.close();
    }

    /** 4 channels at 1/8 size (block means of R, G, B, R, times gain); counts the images it encodes. */
    static final class CountingAutoencoder implements Autoencoder {
        final float gain;
        int encoded;

        CountingAutoencoder(float gain) {
            this.gain = gain;
        }

        @Override public String name() { return "fake"; }
        @Override public int latentChannels() { return 4; }
        @Override public int downscale() { return 8; }
        @Override public float scaling() { return 1f; }
        @Override public float shift() { return 0f; }
        @Override public Backend backend() { return CPU; }
        @Override public void close() { }

        @Override
        public Tensor encode(Tensor images) {
            if (images.dim(2) > 32) {   // the fingerprint's probe is 32x32; count the dataset's images only
                encoded += images.dim(0);
            }
            Tensor p = Ops.avgPool2d(images, 8);
            return Ops.concat(1, p, Ops.slice(p, 1, 0, 1)).mul(gain);
        }

        @Override
        public Tensor decode(Tensor z) {
            int n = z.dim(0), h = z.dim(2) * 8;
            return Tensor.zeros(CPU, n, 3, h, h);
        }
    }

    static SismaConfig tiny() {
        return SismaConfig.named("demo-256").with("name", "tiny-latent", "depth", 1, "hidden", 16, "d_state", 4,
                "image_size", 64, "input_size", 8, "in_channels", 4, "out_channels", 4, "autoencoder", "fake",
                "sample_steps", 2);
    }

    @Test
    void encodesEachImageOnceAcrossEpochsAndRuns() throws Exception {
        SyntheticDataset data = new SyntheticDataset(0, Split.TRAIN, 6);
        CountingAutoencoder ae = new CountingAutoencoder(1f);
        ImageSpace space = ImageSpace.latent(tiny(), ae);
        LatentCache cache = new LatentCache(data, space, dir);
        int[] epoch = {0, 1, 2, 3, 4, 5, 0};
        List<LatentCache.Entry> first = cache.get(epoch);
        assertEquals(6, ae.encoded, "the first epoch encodes every image once (index 0 twice in a batch: once)");
        assertEquals(4 * 8 * 8, first.get(0).latent().length);
        assertEquals(64, first.get(0).mask().width());
        assertArrayEquals(data.get(3, 64).mask().copyOfClasses(), first.get(3).mask().copyOfClasses());
        List<LatentCache.Entry> second = cache.get(epoch);
        assertEquals(6, ae.encoded, "the second epoch reads the cache");
        assertArrayEquals(first.get(2).latent(), second.get(2).latent());

        // another run on the same data and autoencoder: no encoding at all
        CountingAutoencoder again = new CountingAutoencoder(1f);
        LatentCache next = new LatentCache(data, ImageSpace.latent(tiny(), again), dir);
        assertEquals(cache.dir(), next.dir());
        next.get(epoch);
        assertEquals(0, again.encoded);
        try (var files = Files.list(next.dir())) {
            assertTrue(files.noneMatch(p -> p.toString().endsWith(".tmp")), "no temporary files left");
        }
    }

    @Test
    void otherWeightsOrSizeOrAGarbledEntryReEncode() throws Exception {
        SyntheticDataset data = new SyntheticDataset(0, Split.TRAIN, 3);
        CountingAutoencoder ae = new CountingAutoencoder(1f);
        LatentCache cache = new LatentCache(data, ImageSpace.latent(tiny(), ae), dir);
        cache.get(new int[] {0, 1, 2});

        CountingAutoencoder other = new CountingAutoencoder(2f);   // other weights: another fingerprint
        LatentCache changed = new LatentCache(data, ImageSpace.latent(tiny(), other), dir);
        assertNotEquals(cache.dir(), changed.dir());
        List<LatentCache.Entry> e = changed.get(new int[] {0, 1, 2});
        assertEquals(3, other.encoded);
        assertEquals(2f * cache.get(new int[] {1}).get(0).latent()[5], e.get(1).latent()[5], 1e-6);

        CountingAutoencoder bigger = new CountingAutoencoder(1f);
        SismaConfig at128 = tiny().with("image_size", 128, "input_size", 16);
        LatentCache resized = new LatentCache(data, ImageSpace.latent(at128, bigger), dir);
        assertNotEquals(cache.dir(), resized.dir());
        resized.get(new int[] {0});
        assertEquals(1, bigger.encoded);

        // an entry written under another key (or cut short) is encoded again, and rewritten
        Files.copy(changed.dir().resolve("1.latent"), cache.dir().resolve("1.latent"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        Path cut = cache.dir().resolve("2.latent");
        Files.write(cut, java.util.Arrays.copyOf(Files.readAllBytes(cut), 40));
        CountingAutoencoder third = new CountingAutoencoder(1f);
        LatentCache reread = new LatentCache(data, ImageSpace.latent(tiny(), third), dir);
        reread.get(new int[] {0, 1, 2});
        assertEquals(2, third.encoded);
        reread.get(new int[] {1, 2});
        assertEquals(2, third.encoded);
    }

    @Test
    void latentTrainingStepsUseTheCache() {
        SyntheticDataset data = new SyntheticDataset(0, Split.TRAIN, 2);
        SismaConfig cfg = tiny();
        CountingAutoencoder ae = new CountingAutoencoder(1f);
        try (ImageSpace space = ImageSpace.latent(cfg, ae);
             SismaTask task = new SismaTask(cfg, CPU, data, List.of(data.mask(0, 64)), 1, Samplers.byName("euler").orElseThrow(), 2,
                     space, dir)) {
            for (long step = 1; step <= 4; step++) {
                try (Scope s = Scope.open()) {
                    float loss = task.loss(step, 0, 4).toArray()[0];
                    assertTrue(Float.isFinite(loss) && loss > 0, "loss " + loss);
                }
            }
            assertEquals(2, ae.encoded, "two images, each encoded once over four steps");
            List<float[]> img = task.sample(List.of(data.mask(0, 64)), 1, 0, 1.0);
            assertEquals(3 * 64 * 64, img.get(0).length, "samples come back decoded, at image size");
        }
    }
}
