package dev.sisma.autoencoder.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.engine.cpu.CpuBackend;

/** The shipped TAEF2 on the repository's real CelebA-HQ photos at 256x256: at least 30 dB PSNR. */
class RoundTripTest {
    static CpuBackend be;
    static Autoencoder taef2;

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
        taef2 = new Taef2Provider().openBuiltin(be);
    }

    @AfterAll
    static void stop() {
        taef2.close();
        be.close();
    }

    @ParameterizedTest
    @ValueSource(strings = {"0.jpg", "1.jpg", "2.jpg"})
    void realFacesComeBackAbove30dB(String photo) {
        Path file = Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini", "CelebA-HQ-img", photo);
        float[] chw = Images.toChw(ImageFiles.read(file), 256);
        RoundTrip.Result r = RoundTrip.run(taef2, chw, 256);
        System.out.printf("%s: PSNR %.2f dB (encode %.2f s, decode %.2f s)%n", photo, r.psnr(), r.encodeSeconds(), r.decodeSeconds());
        assertArrayEquals(new int[] {1, 32, 32, 32}, r.latentDims());
        assertTrue(r.psnr() >= 30, photo + ": PSNR " + r.psnr());
    }
}
