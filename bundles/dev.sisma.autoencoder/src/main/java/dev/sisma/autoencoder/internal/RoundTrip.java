package dev.sisma.autoencoder.internal;

import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;

/** An image encoded and decoded again, and how close the result is (PSNR). */
final class RoundTrip {
    private RoundTrip() {
    }

    /**
     * @param decoded    the reconstruction, CHW in [-1, 1] (clamped)
     * @param latentDims the latent's shape [1, C, h, w]
     * @param psnr       in dB, over all RGB values on the 0..1 scale (peak 1)
     */
    record Result(float[] decoded, int[] latentDims, double psnr, double encodeSeconds, double decodeSeconds) {
    }

    /** Encodes and decodes {@code chw} (3 x size x size, [-1, 1]) with {@code ae}. */
    static Result run(Autoencoder ae, float[] chw, int size) {
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.of(ae.backend(), chw, 1, 3, size, size);
            long t0 = System.nanoTime();
            Tensor z = ae.encode(x);
            int[] latentDims = z.shape().dims();
            long t1 = System.nanoTime();
            Tensor y = ae.decode(z);
            float[] out = y.toArray();
            long t2 = System.nanoTime();
            for (int i = 0; i < out.length; i++) {
                out[i] = Math.max(-1f, Math.min(1f, out[i]));
            }
            return new Result(out, latentDims, psnr(chw, out), (t1 - t0) / 1e9, (t2 - t1) / 1e9);
        }
    }

    /** PSNR of two images given in [-1, 1], measured on the 0..1 scale. */
    static double psnr(float[] a, float[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("images of " + a.length + " and " + b.length + " values");
        }
        double se = 0;
        for (int i = 0; i < a.length; i++) {
            double d = (a[i] - b[i]) * 0.5;
            se += d * d;
        }
        double mse = se / a.length;
        return mse == 0 ? Double.POSITIVE_INFINITY : 10 * Math.log10(1 / mse);
    }
}
