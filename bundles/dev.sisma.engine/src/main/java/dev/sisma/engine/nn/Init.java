package dev.sisma.engine.nn;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/**
 * Deterministic initialisers (PyTorch's {@code nn.init} formulas, the engine's Philox numbers):
 * the same (seed, offset) gives the same weights on every backend.
 */
public final class Init {
    private Init() {}

    /** U(lo, hi). */
    public static void uniform(Parameter p, float lo, float hi, long seed, long offset) {
        Tensor t = p.value();
        Backend be = t.backend();
        be.randomUniform(t.buffer(), t.size(), seed, offset);
        be.affine(t.buffer(), t.buffer(), t.size(), hi - lo, lo);
    }

    /** N(mean, std^2). */
    public static void normal(Parameter p, float mean, float std, long seed, long offset) {
        Tensor t = p.value();
        Backend be = t.backend();
        be.randomNormal(t.buffer(), t.size(), seed, offset);
        be.affine(t.buffer(), t.buffer(), t.size(), std, mean);
    }

    public static void constant(Parameter p, float value) {
        Tensor t = p.value();
        t.backend().fill(t.buffer(), 0, t.size(), value);
    }

    /**
     * Xavier/Glorot uniform: U(-a, a), a = sqrt(6 / (fanIn + fanOut)), with fan_in = shape[1] x
     * receptive field and fan_out = shape[0] x receptive field (PyTorch's rule; a conv weight is
     * treated as its flattened [out, in*k*k] matrix).
     */
    public static void xavierUniform(Parameter p, long seed, long offset) {
        var s = p.value().shape();
        if (s.rank() < 2) throw new IllegalArgumentException("xavier init needs rank >= 2, got " + s);
        long rf = s.prod(2, s.rank());
        double a = Math.sqrt(6.0 / (s.dim(1) * rf + s.dim(0) * rf));
        uniform(p, (float) -a, (float) a, seed, offset);
    }
}
