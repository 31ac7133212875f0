package dev.sisma.model;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/**
 * A cheap stand-in autoencoder for pipeline tests: 4 latent channels at 1/8 size (the 8x8 block
 * means of R, G, B, and of R again, times {@code gain}); decoding repeats each latent pixel 8x8.
 * Counts its encode calls and images.
 */
public final class FakeAutoencoder implements Autoencoder {
    private final Backend backend;
    private final String name;
    private final float gain;
    public int encodeCalls, encodedImages, decodeCalls;

    public FakeAutoencoder(Backend backend, String name, float gain) {
        this.backend = backend;
        this.name = name;
        this.gain = gain;
    }

    @Override public String name() { return name; }
    @Override public int latentChannels() { return 4; }
    @Override public int downscale() { return 8; }
    @Override public float scaling() { return 1f; }
    @Override public float shift() { return 0f; }
    @Override public Backend backend() { return backend; }

    @Override
    public Tensor encode(Tensor images) {
        encodeCalls++;
        encodedImages += images.dim(0);
        Tensor p = Ops.avgPool2d(images, 8);
        return Ops.concat(1, p, Ops.slice(p, 1, 0, 1)).mul(gain);
    }

    @Override
    public Tensor decode(Tensor z) {
        decodeCalls++;
        int n = z.dim(0), h = z.dim(2), w = z.dim(3);
        float[] v = z.toArray();
        float[] out = new float[n * 3 * h * 8 * w * 8];
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h * 8; y++) {
                    for (int x = 0; x < w * 8; x++) {
                        out[((i * 3 + c) * h * 8 + y) * w * 8 + x] = v[((i * 4 + c) * h + y / 8) * w + x / 8] / gain;
                    }
                }
            }
        }
        return Tensor.of(backend, out, n, 3, h * 8, w * 8);
    }

    @Override
    public void close() {
    }
}
