/* Philox4x32-10, counter-based, exactly dev.sisma.engine.spi.Philox: element i of a request uses
 * counter (lo32(offset + i), hi32(offset + i), 0, 0) and key (lo32(seed), hi32(seed)).
 * Uniforms are bit-exact (integer math, then an exact float conversion); normals use Box-Muller
 * in double when the device has it (SK_FP64), else in float (within a few ulp). */

DEVICE void sk_philox(sk_ulong seed, sk_ulong ctr, sk_uint *out) {
    sk_uint c0 = (sk_uint) ctr, c1 = (sk_uint) (ctr >> 32), c2 = 0u, c3 = 0u;
    sk_uint k0 = (sk_uint) seed, k1 = (sk_uint) (seed >> 32);
    for (int r = 0; r < 10; r++) {
        sk_uint hi0 = MULHI(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        sk_uint hi1 = MULHI(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        sk_uint n0 = hi1 ^ c1 ^ k0, n2 = hi0 ^ c3 ^ k1;
        c0 = n0; c1 = lo1; c2 = n2; c3 = lo0;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

KERNEL void sk_random_uniform(GLOBAL float *dst, long n, sk_ulong seed, sk_ulong offset) {
    long i = GID(0);
    if (i >= n) return;
    sk_uint w[4];
    sk_philox(seed, offset + (sk_ulong) i, w);
    dst[i] = ((float) (w[0] >> 8) + 0.5f) * 5.9604644775390625e-8f; /* 2^-24 */
}

KERNEL void sk_random_normal(GLOBAL float *dst, long n, sk_ulong seed, sk_ulong offset) {
    long i = GID(0);
    if (i >= n) return;
    sk_uint w[4];
    sk_philox(seed, offset + (sk_ulong) i, w);
#ifdef SK_FP64
    double u1 = ((double) (w[0] >> 8) + 0.5) * 5.9604644775390625e-8;
    double u2 = ((double) (w[1] >> 8) + 0.5) * 5.9604644775390625e-8;
    dst[i] = (float) (sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
#else
    float u1 = ((float) (w[0] >> 8) + 0.5f) * 5.9604644775390625e-8f;
    float u2 = ((float) (w[1] >> 8) + 0.5f) * 5.9604644775390625e-8f;
    dst[i] = sqrt(-2.0f * log(u1)) * cos(6.283185307179586f * u2);
#endif
}
