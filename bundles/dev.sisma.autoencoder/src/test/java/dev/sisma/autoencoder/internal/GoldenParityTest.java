package dev.sisma.autoencoder.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Arrays;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsFile;

/**
 * Parity with the PyTorch reference ({@code src/test/python/autoencoder_ref.py}; goldens written by
 * {@code make_golden.py}): float64 results on the stored weights and inputs. Both autoencoders must
 * match encode and decode within 1e-4 of each tensor's largest value: TAEF2 small and random, TAEF2
 * with its shipped float16 weights, and a small AutoencoderKL stored as bfloat16.
 */
class GoldenParityTest {
    static final double TOL = 1e-4;
    static CpuBackend be;
    static SafeTensorsFile io;

    static Path golden(String name) throws Exception {
        return Path.of(GoldenParityTest.class.getResource("/golden/" + name).toURI());
    }

    @BeforeAll
    static void open() throws Exception {
        be = new CpuBackend(2);
        io = SafeTensorsFile.open(golden("io.safetensors"));
    }

    @AfterAll
    static void close() {
        io.close();
        be.close();
    }

    static Tensor read(String name, float scale, float offset) {
        int[] dims = Arrays.stream(io.info(name).shape()).mapToInt(Math::toIntExact).toArray();
        float[] v = io.readFloats(name);
        for (int i = 0; i < v.length; i++) {
            v[i] = v[i] * scale + offset;
        }
        return Tensor.of(be, v, dims);
    }

    /** max |a - ref| / max |ref|. */
    static double relError(float[] a, float[] ref) {
        assertEquals(ref.length, a.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    /** Checks {@code actual} against the golden {@code name} mapped by {@code v * scale + offset}; returns the error. */
    static double check(String what, Tensor actual, String name, float scale, float offset) {
        Tensor ref = read(name, scale, offset);
        assertEquals(ref.shape(), actual.shape(), what);
        double e = relError(actual.toArray(), ref.toArray());
        System.out.printf("%-28s relative error %.2e%n", what, e);
        assertTrue(e <= TOL, what + ": relative error " + e);
        return e;
    }

    /** TAEF2 works on 0..1 pictures; the contract on [-1, 1]: image 2v - 1 in, decoded 2v - 1 out. */
    static void checkTaef2(Autoencoder ae, String prefix, String latentIn) {
        try (Scope s = Scope.open()) {
            check(prefix + " encode", ae.encode(read(prefix + ".image", 2, -1)), prefix + ".latent", 1, 0);
            check(prefix + " decode", ae.decode(read(latentIn, 1, 0)), prefix + ".decoded", 2, -1);
        }
    }

    @Test
    void taef2RandomSmall() throws Exception {
        try (SafeTensorsFile e = Weights.open(golden("taef2_random_encoder.safetensors"));
             SafeTensorsFile d = Weights.open(golden("taef2_random_decoder.safetensors"));
             Taef2 t = Taef2.load("taef2-random", e, d, be)) {
            assertEquals(new Taef2.Config(8, 6, true), t.config());
            checkTaef2(t, "taef2.random", "taef2.random.z");
        }
    }

    @Test
    void taef2ShippedWeights() {
        try (Autoencoder t = new Taef2Provider().openBuiltin(be)) {
            assertEquals(32, t.latentChannels());
            assertEquals(8, t.downscale());
            assertEquals(Taef2.Config.TAEF2, ((Taef2) t).config());
            checkTaef2(t, "taef2.real", "taef2.real.latent");
        }
    }

    @Test
    void sdVaeSmallFromBf16() throws Exception {
        try (SafeTensorsFile f = Weights.open(golden("sdvae_small.safetensors")); SdVae v = SdVae.load("sd-vae-small", f, be)) {
            SdVae.Config c = v.config();
            assertArrayEquals(new int[] {16, 32}, c.channels());
            assertEquals(1, c.layers());
            assertEquals(4, c.latent());
            assertEquals(8, c.groups());
            assertEquals(0.18215f, v.scaling());
            assertEquals(2, v.downscale());
            try (Scope s = Scope.open()) {
                check("sdvae encode", v.encode(read("sdvae.image", 1, 0)), "sdvae.latent", 1, 0);
                check("sdvae decode", v.decode(read("sdvae.z", 1, 0)), "sdvae.decoded", 1, 0);
            }
        }
    }
}
