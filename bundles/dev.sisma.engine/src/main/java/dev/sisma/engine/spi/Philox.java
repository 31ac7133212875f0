package dev.sisma.engine.spi;

/**
 * The reference definition of the engine's random numbers: Philox4x32-10 (Salmon et al., SC'11,
 * the generator of cuRAND and PyTorch's CUDA RNG) used counter-based, so every backend produces
 * the same sequence for the same (seed, offset) and element i can be computed by any thread.
 *
 * <p>For element {@code i} of a request with {@code (seed, offset)}:
 * <ul>
 * <li>counter = (c0, c1, c2, c3) = (lo32(offset + i), hi32(offset + i), 0, 0), 64-bit add;
 * <li>key = (k0, k1) = (lo32(seed), hi32(seed));
 * <li>10 rounds: {@code (hi0, lo0) = 0xD2511F53 * c0; (hi1, lo1) = 0xCD9E8D57 * c2} (32x32 to 64 bits),
 *     {@code c = (hi1 ^ c1 ^ k0, lo1, hi0 ^ c3 ^ k1, lo0)}, then (after every round but the last)
 *     {@code k0 += 0x9E3779B9, k1 += 0xBB67AE85};
 * <li>output words x0..x3 = c0..c3.
 * </ul>
 * Uniform: {@code u = ((x0 >>> 8) + 0.5f) * 2^-24} in float32, exact, in (0, 1).<br>
 * Normal: {@code u1 = ((x0 >>> 8) + 0.5) * 2^-24}, {@code u2 = ((x1 >>> 8) + 0.5) * 2^-24},
 * {@code z = sqrt(-2 ln u1) * cos(2 pi u2)}, computed in float64 and rounded to float32 (backends
 * computing in float32 must stay within a few ulp).
 * Uniform values are bit-exact on every backend; normals agree to about 1e-6 relative.
 */
public final class Philox {
    private Philox() {}

    private static final int M0 = 0xD2511F53, M1 = 0xCD9E8D57, W0 = 0x9E3779B9, W1 = 0xBB67AE85;

    /** Writes the four output words for counter {@code ctr} (64-bit) and {@code seed} into out[0..3]. */
    public static void block(long seed, long ctr, int[] out) {
        int c0 = (int) ctr, c1 = (int) (ctr >>> 32), c2 = 0, c3 = 0;
        int k0 = (int) seed, k1 = (int) (seed >>> 32);
        for (int r = 0; r < 10; r++) {
            long p0 = (M0 & 0xFFFFFFFFL) * (c0 & 0xFFFFFFFFL);
            long p1 = (M1 & 0xFFFFFFFFL) * (c2 & 0xFFFFFFFFL);
            int hi0 = (int) (p0 >>> 32), lo0 = (int) p0, hi1 = (int) (p1 >>> 32), lo1 = (int) p1;
            int n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
            c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
            k0 += W0; k1 += W1;
        }
        out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
    }

    /** Uniform value in (0, 1) from an output word. */
    public static float uniform(int x) {
        return ((x >>> 8) + 0.5f) * 0x1p-24f;
    }

    /** Standard normal value from two output words (Box-Muller, cosine branch). */
    public static float normal(int x0, int x1) {
        double u1 = ((x0 >>> 8) + 0.5) * 0x1p-24, u2 = ((x1 >>> 8) + 0.5) * 0x1p-24;
        return (float) (Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2));
    }

    /** Element {@code i} of {@link Backend#randomUniform} with this seed and offset. */
    public static float uniformAt(long seed, long offset, long i) {
        int[] w = new int[4];
        block(seed, offset + i, w);
        return uniform(w[0]);
    }

    /** Element {@code i} of {@link Backend#randomNormal} with this seed and offset. */
    public static float normalAt(long seed, long offset, long i) {
        int[] w = new int[4];
        block(seed, offset + i, w);
        return normal(w[0], w[1]);
    }
}
