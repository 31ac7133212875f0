package dev.sisma.engine.cpu.internal;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * float32 exp, exp2, log, log1p, softplus, tanh, sigmoid and SiLU, each as a {@link FloatVector} form and a
 * scalar form that perform the same IEEE-754 operations in the same order (add, sub, mul, div,
 * fma, min/max, compares, selects and integer bit manipulation; no library calls). Every one of
 * these is exactly rounded on every JIT tier, so a lane of the vector form equals the scalar form
 * bit for bit, in the interpreter, C1 and C2 alike. The Vector API's {@code EXP}, {@code LOG} and
 * {@code TANH} are not: they run a per-lane {@code Math} fallback until C2 swaps in SVML stubs,
 * and the two differ in the last bit (so identical runs of one JVM diverged as it warmed up).
 * <p>
 * Accuracy, against double-precision {@link StrictMath} (bounds asserted by {@code FloatMathTest}
 * over every 2053rd float of both signs; measured maximum in brackets): exp 1 ulp (0.95), exp2 1 (0.92), log 1
 * (0.81), log1p on [0, 1] 1 (0.82), softplus 3 (2.60), sigmoid 3 (1.99), silu 3 (2.35), tanh 2
 * (1.16). Tiny results go to zero: exp(x) and softplus(x) for x below -87.3365 (the exact
 * value would be subnormal), sigmoid(x) and silu(x) for x below -88.72 (e^-x overflows; exact
 * values below 3e-39 and 3e-37). Subnormal inputs of log are exact (scaled by 2^23 first). Special
 * values follow {@link Math}: exp(+inf) = +inf, exp(-inf) = +0, log(0) = -inf, log(x < 0) = NaN,
 * tanh(+-inf) = +-1, tanh(-0) = -0; NaN in gives NaN out.
 * <p>
 * The vector methods are small (each well under C2's 325-byte FreqInlineSize) and use only
 * intrinsified operations on the compile-time constant species {@link #S}, so C2 inlines them
 * into the calling loop and keeps every vector in registers (a call that is not inlined boxes
 * its vectors, which made an earlier inline exp slower than SVML). They are still big graphs to
 * C2: a caller that inlines several of them next to other vector code can exceed C2's inlining
 * node budget (see {@code Scan}), so hot loops around them stay small. Polynomials are Cephes'
 * ({@code expf}, {@code logf}, {@code tanhf}), evaluated by Horner's rule with fma.
 */
public final class FloatMath {
    /** The species of every vector form: the preferred float shape, a constant to C2. */
    public static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;

    static final float LOG2E = 1.44269504088896341f;
    private static final float LN2_HI = 0.693359375f, LN2_LO = -2.12194440e-4f; // LN2_HI has 9 bits: n LN2_HI is exact
    /** 1.5 * 2^23: adding it rounds to an integer in the low mantissa bits (to nearest even). */
    private static final float ROUND = 0x1.8p23f;
    /** The largest x with a finite float e^x, and the smallest with a normal one. */
    private static final float EXP_HI = 88.72283172607422f, EXP_LO = -87.33654022216797f;
    /** |x - EXP_MID| <= EXP_SAFE implies EXP_LO <= x <= EXP_HI (with a margin for the rounding of the subtraction). */
    private static final float EXP_MID = 0.6875f, EXP_SAFE = 87.9f;
    private static final float E0 = 1.9875691500e-4f, E1 = 1.3981999507e-3f, E2 = 8.3334519073e-3f,
            E3 = 4.1665795894e-2f, E4 = 1.6666665459e-1f, E5 = 5.0000001201e-1f;

    private static final int SQRT_HALF_BITS = 0x3f3504f3; // bits of sqrt(1/2)
    private static final int ONE_BITS = 0x3f800000;
    private static final float TWO_23 = 0x1p23f;
    private static final float L0 = 7.0376836292e-2f, L1 = -1.1514610310e-1f, L2 = 1.1676998740e-1f,
            L3 = -1.2420140846e-1f, L4 = 1.4249322787e-1f, L5 = -1.6668057665e-1f, L6 = 2.0000714765e-1f,
            L7 = -2.4999993993e-1f, L8 = 3.3333331174e-1f;

    private static final float TANH_SMALL = 0.625f, TANH_CLAMP = 88f;
    private static final float T0 = -5.70498872745e-3f, T1 = 2.06390887954e-2f, T2 = -5.37397155531e-2f,
            T3 = 1.33314422036e-1f, T4 = -3.33332819422e-1f;
    private static final int SIGN = 0x80000000;

    private FloatMath() {}

    // ------------------------------------------------------------------ exp

    /** e^x: n = round(x log2 e), r = x - n ln 2 (two parts), e^r by a degree-7 polynomial, times 2^n in the exponent bits. */
    public static FloatVector exp(FloatVector x) {
        FloatVector y = expInRange(x);
        // One test on the fast path (false for NaN); lanes near the ends also take the exact selects.
        if (x.sub(EXP_MID).abs().compare(VectorOperators.LE, EXP_SAFE).allTrue()) return y;
        return special(x, y, EXP_HI, EXP_LO);
    }

    /** {@link #exp(FloatVector)} without its range test, for x known to lie in [EXP_LO, EXP_HI]: the same value there. */
    static FloatVector expInRange(FloatVector x) {
        FloatVector t = x.fma(LOG2E, ROUND);  // n in the low bits of t
        FloatVector n = t.sub(ROUND);
        FloatVector r = n.fma(FloatVector.broadcast(S, -LN2_HI), x);
        r = n.fma(FloatVector.broadcast(S, -LN2_LO), r);
        FloatVector p = r.fma(E0, E1);
        p = p.fma(r, FloatVector.broadcast(S, E2));
        p = p.fma(r, FloatVector.broadcast(S, E3));
        p = p.fma(r, FloatVector.broadcast(S, E4));
        p = p.fma(r, FloatVector.broadcast(S, E5));
        p = p.fma(r.mul(r), r).add(1f);
        // bits(t) << 23 == n << 23: the bits of ROUND shift out. Adding it to p's exponent multiplies by 2^n.
        return p.reinterpretAsInts().add(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
    }

    /** The selects of exp and exp2: +inf above hi, +0 below lo, NaN for NaN. */
    private static FloatVector special(FloatVector x, FloatVector y, float hi, float lo) {
        y = y.blend(Float.POSITIVE_INFINITY, x.compare(VectorOperators.GT, hi));
        y = y.blend(0f, x.compare(VectorOperators.LT, lo));
        return y.blend(x, x.compare(VectorOperators.NE, x));
    }

    /** e^x, the same operations as {@link #exp(FloatVector)}. */
    public static float exp(float x) {
        float t = Math.fma(x, LOG2E, ROUND);
        float n = t - ROUND;
        float r = Math.fma(n, -LN2_HI, x);
        r = Math.fma(n, -LN2_LO, r);
        float p = Math.fma(r, E0, E1);
        p = Math.fma(p, r, E2);
        p = Math.fma(p, r, E3);
        p = Math.fma(p, r, E4);
        p = Math.fma(p, r, E5);
        p = Math.fma(p, r * r, r) + 1f;
        float y = Float.intBitsToFloat(Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(t) << 23));
        y = x > EXP_HI ? Float.POSITIVE_INFINITY : y;
        y = x < EXP_LO ? 0f : y;
        return x != x ? x : y;
    }

    // ------------------------------------------------------------------ exp2

    /** 2^x is finite below 128; below -126 it is subnormal (flushed to +0, as exp does). */
    private static final float EXP2_HI = Math.nextDown(128f), EXP2_LO = -126f;
    /** |x - 1| <= EXP2_SAFE implies EXP2_LO <= x <= EXP2_HI. */
    private static final float EXP2_SAFE = 126.9f;
    /** Near-minimax 2^f = 1 + f (P1 + f (P2 + ... f P6)) on [-1/2, 1/2], relative error 2e-9 (0.03 ulp) before rounding: src/test/python/fit_exp2.py. */
    private static final float P1 = 0.6931471824645996f, P2 = 0.24022647738456726f, P3 = 0.055503323674201965f,
            P4 = 0.00961843691766262f, P5 = 0.0013398875016719103f, P6 = 0.00015353361959569156f;

    /**
     * 2^x: n = round(x), f = x - n (exact), 2^f by a degree-6 polynomial, times 2^n in the exponent bits.
     * Cheaper than {@link #exp(FloatVector)} (no two-part ln 2 reduction, one polynomial term fewer):
     * the selective scan computes exp(dt a) as exp2(dt (a log2 e)) with a log2 e once per channel.
     */
    public static FloatVector exp2(FloatVector x) {
        FloatVector y = exp2InRange(x);
        if (x.sub(1f).abs().compare(VectorOperators.LE, EXP2_SAFE).allTrue()) return y;
        return special(x, y, EXP2_HI, EXP2_LO);
    }

    /**
     * {@link #exp2(FloatVector)} without its range test, for callers that have shown every lane to lie in
     * [-126, 128) (the scan does, once per chunk of 16 x N values): the same value there, garbage outside.
     */
    public static FloatVector exp2InRange(FloatVector x) {
        FloatVector t = x.add(ROUND);  // n in the low bits of t
        FloatVector f = x.sub(t.sub(ROUND));
        FloatVector p = f.fma(P6, P5);
        p = p.fma(f, FloatVector.broadcast(S, P4));
        p = p.fma(f, FloatVector.broadcast(S, P3));
        p = p.fma(f, FloatVector.broadcast(S, P2));
        p = p.fma(f, FloatVector.broadcast(S, P1));
        p = p.fma(f, FloatVector.broadcast(S, 1f));
        return p.reinterpretAsInts().add(t.reinterpretAsInts().lanewise(VectorOperators.LSHL, 23)).reinterpretAsFloats();
    }

    /** 2^x, the same operations as {@link #exp2(FloatVector)}. */
    public static float exp2(float x) {
        float t = x + ROUND;
        float f = x - (t - ROUND);
        float p = Math.fma(f, P6, P5);
        p = Math.fma(p, f, P4);
        p = Math.fma(p, f, P3);
        p = Math.fma(p, f, P2);
        p = Math.fma(p, f, P1);
        p = Math.fma(p, f, 1f);
        float y = Float.intBitsToFloat(Float.floatToRawIntBits(p) + (Float.floatToRawIntBits(t) << 23));
        y = x > EXP2_HI ? Float.POSITIVE_INFINITY : y;
        y = x < EXP2_LO ? 0f : y;
        return x != x ? x : y;
    }

    // ------------------------------------------------------------------ log

    /**
     * ln x for positive normal finite x: x = 2^k m with m in [sqrt(1/2), sqrt(2)), ln m = f - f^2/2 + f^3 P(f)
     * with f = m - 1, plus k ln 2 (two parts).
     */
    static FloatVector logPositive(FloatVector x) {
        IntVector ix = x.reinterpretAsInts().add(ONE_BITS - SQRT_HALF_BITS);
        IntVector k = ix.lanewise(VectorOperators.ASHR, 23).sub(127);
        FloatVector m = ix.and(0x007fffff).add(SQRT_HALF_BITS).reinterpretAsFloats();
        FloatVector kf = (FloatVector) k.convert(VectorOperators.I2F, 0);
        FloatVector f = m.sub(1f);
        FloatVector z = f.mul(f);
        FloatVector p = f.fma(L0, L1);
        p = p.fma(f, FloatVector.broadcast(S, L2));
        p = p.fma(f, FloatVector.broadcast(S, L3));
        p = p.fma(f, FloatVector.broadcast(S, L4));
        p = p.fma(f, FloatVector.broadcast(S, L5));
        p = p.fma(f, FloatVector.broadcast(S, L6));
        p = p.fma(f, FloatVector.broadcast(S, L7));
        p = p.fma(f, FloatVector.broadcast(S, L8));
        FloatVector y = p.mul(f).mul(z);
        y = kf.fma(FloatVector.broadcast(S, LN2_LO), y);
        y = z.fma(FloatVector.broadcast(S, -0.5f), y);
        return kf.fma(FloatVector.broadcast(S, LN2_HI), f.add(y));
    }

    /** ln x for positive normal finite x, the same operations as {@link #logPositive(FloatVector)}. */
    static float logPositive(float x) {
        int ix = Float.floatToRawIntBits(x) + (ONE_BITS - SQRT_HALF_BITS);
        int k = (ix >> 23) - 127;
        float m = Float.intBitsToFloat((ix & 0x007fffff) + SQRT_HALF_BITS);
        float kf = k;
        float f = m - 1f;
        float z = f * f;
        float p = Math.fma(f, L0, L1);
        p = Math.fma(p, f, L2);
        p = Math.fma(p, f, L3);
        p = Math.fma(p, f, L4);
        p = Math.fma(p, f, L5);
        p = Math.fma(p, f, L6);
        p = Math.fma(p, f, L7);
        p = Math.fma(p, f, L8);
        float y = p * f * z;
        y = Math.fma(kf, LN2_LO, y);
        y = Math.fma(z, -0.5f, y);
        return Math.fma(kf, LN2_HI, f + y);
    }

    /** ln x: subnormal x scaled by 2^23 first; 0 gives -inf, negative NaN, +inf and NaN themselves. */
    public static FloatVector log(FloatVector x) {
        var sub = x.compare(VectorOperators.LT, Float.MIN_NORMAL);
        FloatVector y = logPositive(x.blend(x.mul(TWO_23), sub));
        y = y.blend(y.sub(23 * 0.6931471805599453f), sub);
        y = y.blend(Float.NEGATIVE_INFINITY, x.compare(VectorOperators.EQ, 0f));
        y = y.blend(Float.NaN, x.compare(VectorOperators.LT, 0f));
        return y.blend(x, x.compare(VectorOperators.NE, x).or(x.compare(VectorOperators.EQ, Float.POSITIVE_INFINITY)));
    }

    /** ln x, the same operations as {@link #log(FloatVector)}. */
    public static float log(float x) {
        boolean sub = x < Float.MIN_NORMAL;
        float y = logPositive(sub ? x * TWO_23 : x);
        y = sub ? y - 23 * 0.6931471805599453f : y;
        y = x == 0f ? Float.NEGATIVE_INFINITY : y;
        y = x < 0f ? Float.NaN : y;
        return x != x || x == Float.POSITIVE_INFINITY ? x : y;
    }

    // ------------------------------------------------------------------ log1p, softplus

    /**
     * ln(1 + y) for y in [0, 1] (what softplus needs): u = 1 + y rounded, then ln(u) y / (u - 1)
     * corrects the rounding of u (Goldberg); y itself where u == 1.
     */
    static FloatVector log1pUnit(FloatVector y) {
        FloatVector u = y.add(1f);
        FloatVector d = u.sub(1f);
        FloatVector l = logPositive(u).mul(y.div(d));
        return l.blend(y, d.compare(VectorOperators.EQ, 0f));
    }

    /** ln(1 + y) for y in [0, 1], the same operations as {@link #log1pUnit(FloatVector)}. */
    static float log1pUnit(float y) {
        float u = y + 1f;
        float d = u - 1f;
        float l = logPositive(u) * (y / d);
        return d == 0f ? y : l;
    }

    /** softplus(x) = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|), without overflow. */
    public static FloatVector softplus(FloatVector x) {
        return x.max(0f).add(log1pUnit(exp(x.abs().neg())));
    }

    /** softplus, the same operations as {@link #softplus(FloatVector)}. */
    public static float softplus(float x) {
        return Math.max(x, 0f) + log1pUnit(exp(-Math.abs(x)));
    }

    // ------------------------------------------------------------------ sigmoid, silu

    /** 1 / (1 + e^-x). */
    public static FloatVector sigmoid(FloatVector x) {
        return FloatVector.broadcast(S, 1f).div(exp(x.neg()).add(1f));
    }

    /** 1 / (1 + e^-x), the same operations as {@link #sigmoid(FloatVector)}. */
    public static float sigmoid(float x) {
        return 1f / (exp(-x) + 1f);
    }

    /** x / (1 + e^-x). */
    public static FloatVector silu(FloatVector x) {
        return x.div(exp(x.neg()).add(1f));
    }

    /** x / (1 + e^-x), the same operations as {@link #silu(FloatVector)}. */
    public static float silu(float x) {
        return x / (exp(-x) + 1f);
    }

    // ------------------------------------------------------------------ tanh

    /** tanh: an odd polynomial below |x| = 0.625, else 1 - 2 / (e^2|x| + 1); the sign of x copied on. */
    public static FloatVector tanh(FloatVector x) {
        FloatVector a = x.abs();
        // e^2a for 2a clamped to 88 (1 - 2/(e^88 + 1) is 1 already): in exp's range, no test (NaN lanes take small)
        FloatVector big = FloatVector.broadcast(S, 1f).sub(FloatVector.broadcast(S, 2f).div(expInRange(a.add(a).min(TANH_CLAMP)).add(1f)));
        FloatVector z = a.mul(a);
        FloatVector p = z.fma(T0, T1);
        p = p.fma(z, FloatVector.broadcast(S, T2));
        p = p.fma(z, FloatVector.broadcast(S, T3));
        p = p.fma(z, FloatVector.broadcast(S, T4));
        FloatVector small = p.mul(z).fma(a, a);
        FloatVector r = small.blend(big, a.compare(VectorOperators.GT, TANH_SMALL));
        return r.reinterpretAsInts().or(x.reinterpretAsInts().and(SIGN)).reinterpretAsFloats();
    }

    /** tanh, the same operations as {@link #tanh(FloatVector)}. */
    public static float tanh(float x) {
        float a = Math.abs(x);
        float big = 1f - 2f / (exp(Math.min(a + a, TANH_CLAMP)) + 1f);
        float z = a * a;
        float p = Math.fma(z, T0, T1);
        p = Math.fma(p, z, T2);
        p = Math.fma(p, z, T3);
        p = Math.fma(p, z, T4);
        float small = Math.fma(p * z, a, a);
        float r = a > TANH_SMALL ? big : small;
        return Float.intBitsToFloat(Float.floatToRawIntBits(r) | (Float.floatToRawIntBits(x) & SIGN));
    }
}
