package dev.sisma.engine.cpu.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.function.DoubleUnaryOperator;
import java.util.function.UnaryOperator;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

import org.junit.jupiter.api.Test;

/**
 * FloatMath: (a) every vector form equals its scalar form bit for bit, over a sweep of about 2^21
 * floats of every binade of both signs plus the special values; (b) the accuracy bounds stated in
 * FloatMath's documentation, against double-precision StrictMath.
 */
class FloatMathTest {
    private static final VectorSpecies<Float> S = FloatMath.S;

    interface ScalarFn { float apply(float x); }

    /** Every 2053rd float of each sign (all binades), the special values, and the edges of each function. */
    static float[] sweep() {
        float[] special = {0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, Float.MIN_NORMAL, -Float.MIN_NORMAL, 1e-30f, -1e-30f,
                1f, -1f, 0.5f, 0.625f, -0.625f, Math.nextUp(0.625f), Math.nextDown(-0.625f), 20f, -20f, 88.72283172607422f,
                88.72283935546875f, -87.33654022216797f, -87.33654785156250f, -103.97f, -104f, 89f, -89f, 1e30f, -1e30f,
                Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN,
                Float.intBitsToFloat(0x7fc00001), (float) Math.sqrt(0.5), Math.nextUp((float) Math.sqrt(0.5)),
                // exp2's range, and the edges of exp's and exp2's one-test fast path
                Math.nextDown(128f), 128f, 127.5f, -126f, Math.nextDown(-126f), -125.5f, 88.5875f, -87.2125f, 127.9f, -125.9f};
        int stride = 2053, perSign = 0x7f800000 / stride + 1;
        int n = special.length + 2 * perSign;
        n += (S.length() - n % S.length()) % S.length();
        float[] x = new float[n];
        System.arraycopy(special, 0, x, 0, special.length);
        int k = special.length;
        for (int i = 0; i < perSign; i++) {
            float v = Float.intBitsToFloat(i * stride);
            x[k++] = v;
            x[k++] = -v;
        }
        while (k < n) x[k++] = 1.5f;
        return x;
    }

    static void assertSame(String name, UnaryOperator<FloatVector> vf, ScalarFn sf, float[] x) {
        float[] y = new float[S.length()];
        for (int i = 0; i < x.length; i += S.length()) {
            vf.apply(FloatVector.fromArray(S, x, i)).intoArray(y, 0);
            for (int j = 0; j < S.length(); j++) {
                float s = sf.apply(x[i + j]);
                if (Float.floatToIntBits(y[j]) != Float.floatToIntBits(s))
                    fail(name + "(" + x[i + j] + "): vector " + y[j] + " != scalar " + s);
            }
        }
    }

    @Test
    void vectorFormsEqualScalarFormsBitForBit() {
        float[] x = sweep();
        assertSame("exp", FloatMath::exp, FloatMath::exp, x);
        assertSame("exp2", FloatMath::exp2, FloatMath::exp2, x);
        assertSame("log", FloatMath::log, FloatMath::log, x);
        assertSame("softplus", FloatMath::softplus, FloatMath::softplus, x);
        assertSame("sigmoid", FloatMath::sigmoid, FloatMath::sigmoid, x);
        assertSame("silu", FloatMath::silu, FloatMath::silu, x);
        assertSame("tanh", FloatMath::tanh, FloatMath::tanh, x);
        assertSame("tanhGrad", Elementwise::tanhGrad, Elementwise::tanhGrad, x);
        assertSame("sigmoidGrad", Elementwise::sigmoidGrad, Elementwise::sigmoidGrad, x);
        assertSame("siluGrad", Elementwise::siluGrad, Elementwise::siluGrad, x);
        assertSame("gelu", Elementwise::gelu, Elementwise::gelu, x);
        assertSame("geluGrad", Elementwise::geluGrad, Elementwise::geluGrad, x);
        float[] unit = new float[1 << 16];
        for (int i = 0; i < unit.length; i++) unit[i] = i == 0 ? 0f : (float) Math.pow(2, -30 + 30.0 * i / unit.length);
        assertSame("log1p", FloatMath::log1pUnit, FloatMath::log1pUnit, unit);
    }

    /** The largest error in ulps (of the float nearest the exact result) where the exact result is at least tiny. */
    static double maxUlps(ScalarFn f, DoubleUnaryOperator exact, float[] x, double tiny) {
        double worst = 0;
        for (float v : x) {
            double e = exact.applyAsDouble(v);
            float y = f.apply(v);
            if (Double.isNaN(e)) { assertTrue(Float.isNaN(y), "NaN expected at " + v + ", got " + y); continue; }
            if (Double.isInfinite(e) || Math.abs(e) > Float.MAX_VALUE) {
                assertEquals((float) e, y, "at " + v);
                continue;
            }
            if (Math.abs(e) < tiny) {
                assertTrue(Math.abs(y) <= tiny, "at " + v + ": " + y + " vs " + e);
                continue;
            }
            double err = Math.abs(y - e) / Math.ulp((float) e);
            if (err > worst) worst = err;
        }
        return worst;
    }

    static double softplusExact(double x) {
        return Math.max(x, 0) + StrictMath.log1p(StrictMath.exp(-Math.abs(x)));
    }

    @Test
    void accurateToTheStatedUlps() {
        float[] x = sweep();
        double exp = maxUlps(FloatMath::exp, StrictMath::exp, x, Float.MIN_NORMAL);
        double exp2 = maxUlps(FloatMath::exp2, v -> StrictMath.pow(2, v), x, Float.MIN_NORMAL);
        double log = maxUlps(FloatMath::log, v -> v < 0 ? Double.NaN : StrictMath.log(v), x, 0);
        double softplus = maxUlps(FloatMath::softplus, FloatMathTest::softplusExact, x, Float.MIN_NORMAL);
        double sigmoid = maxUlps(FloatMath::sigmoid, v -> 1 / (1 + StrictMath.exp(-v)), x, Float.MIN_NORMAL);
        double silu = maxUlps(FloatMath::silu, v -> v / (1 + StrictMath.exp(-v)), x, 1e-36);
        double tanh = maxUlps(FloatMath::tanh, StrictMath::tanh, x, 0);
        float[] unit = new float[1 << 20];
        for (int i = 0; i < unit.length; i++) unit[i] = (float) i / unit.length;
        double log1p = maxUlps(FloatMath::log1pUnit, StrictMath::log1p, unit, 0);
        System.out.printf("FloatMath max ulps: exp %.2f exp2 %.2f log %.2f log1p %.2f softplus %.2f sigmoid %.2f silu %.2f tanh %.2f%n",
                exp, exp2, log, log1p, softplus, sigmoid, silu, tanh);
        assertTrue(exp <= 1, "exp " + exp);
        assertTrue(exp2 <= 1, "exp2 " + exp2);
        assertTrue(log <= 1, "log " + log);
        assertTrue(log1p <= 1, "log1p " + log1p);
        assertTrue(softplus <= 3, "softplus " + softplus);
        assertTrue(sigmoid <= 3, "sigmoid " + sigmoid);
        assertTrue(silu <= 3, "silu " + silu);
        assertTrue(tanh <= 2, "tanh " + tanh);
    }

    @Test
    void specialValues() {
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.exp(Float.POSITIVE_INFINITY));
        assertEquals(0f, FloatMath.exp(Float.NEGATIVE_INFINITY));
        assertEquals(1f, FloatMath.exp(0f));
        assertEquals(1f, FloatMath.exp(-0f));
        assertEquals(0f, FloatMath.exp(-88f)); // subnormal result: flushed
        assertEquals(1f, FloatMath.exp2(0f));
        assertEquals(0x1p-126f, FloatMath.exp2(-126f));
        assertEquals(0x1p127f, FloatMath.exp2(127f));
        assertEquals(0f, FloatMath.exp2(Math.nextDown(-126f)));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.exp2(128f));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.exp2(Float.POSITIVE_INFINITY));
        assertEquals(0f, FloatMath.exp2(Float.NEGATIVE_INFINITY));
        assertTrue(Float.isNaN(FloatMath.exp2(Float.NaN)));
        assertEquals(Float.NEGATIVE_INFINITY, FloatMath.log(0f));
        assertEquals(Float.NEGATIVE_INFINITY, FloatMath.log(-0f));
        assertTrue(Float.isNaN(FloatMath.log(-1f)));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.log(Float.POSITIVE_INFINITY));
        assertEquals((float) StrictMath.log(Float.MIN_VALUE), FloatMath.log(Float.MIN_VALUE));
        assertEquals(0f, FloatMath.log(1f));
        assertEquals(1f, FloatMath.tanh(Float.POSITIVE_INFINITY));
        assertEquals(-1f, FloatMath.tanh(Float.NEGATIVE_INFINITY));
        assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(FloatMath.tanh(-0f)));
        assertEquals(Float.POSITIVE_INFINITY, FloatMath.softplus(Float.POSITIVE_INFINITY));
        assertEquals(0f, FloatMath.softplus(Float.NEGATIVE_INFINITY));
        assertEquals(1f, FloatMath.sigmoid(Float.POSITIVE_INFINITY));
        assertEquals(0f, FloatMath.sigmoid(Float.NEGATIVE_INFINITY));
        for (float v : new float[] {Float.NaN}) {
            assertTrue(Float.isNaN(FloatMath.exp(v)) && Float.isNaN(FloatMath.log(v)) && Float.isNaN(FloatMath.tanh(v))
                    && Float.isNaN(FloatMath.softplus(v)) && Float.isNaN(FloatMath.sigmoid(v)) && Float.isNaN(FloatMath.silu(v)));
        }
    }
}
