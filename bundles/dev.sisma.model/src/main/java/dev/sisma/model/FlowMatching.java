package dev.sisma.model;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.Philox;

/**
 * Rectified flow (t = 0 noise, t = 1 data), as the spec fixes it:
 * x_t = t x1 + (1 - t) x0, x0 ~ N(0, I), target x1 - x0, loss = mean((v(x_t, t, mask) - target)^2),
 * training t logit-normal, t = sigmoid(n), n ~ N(t_logit_mean, t_logit_std^2), and optional mask
 * dropout to the learned null mask.
 *
 * <p>Every random number comes from the engine's Philox keyed by (seed, stream) at counter
 * offset {@code step << 32}: a training step's draws depend only on (seed, step), so a resumed run
 * draws exactly what an uninterrupted one would.
 */
public final class FlowMatching {
    private static final long NOISE = 1, TIME = 2, DROP = 3;

    private final SismaConfig config;

    public FlowMatching(SismaConfig config) {
        this.config = config;
    }

    /** The random part of one training step. x0 [B, C, H, W] and t [B] belong to the current scope. */
    public record Draw(Tensor x0, Tensor t, boolean[] dropMask) {
    }

    /** Noise, times and mask-drop flags for a batch of {@code batch} at training step {@code step}. */
    public Draw draw(Backend backend, int batch, long seed, long step) {
        int c = config.inChannels(), s = config.inputSize();
        long offset = step << 32;
        Tensor x0 = Tensor.randn(backend, key(seed, NOISE), offset, batch, c, s, s);
        float[] t = new float[batch];
        boolean[] drop = new boolean[batch];
        for (int i = 0; i < batch; i++) {
            double n = config.tLogitMean() + config.tLogitStd() * Philox.normalAt(key(seed, TIME), offset, i);
            t[i] = (float) (1 / (1 + Math.exp(-n)));
            drop[i] = config.maskDropout() > 0 && Philox.uniformAt(key(seed, DROP), offset, i) < config.maskDropout();
        }
        return new Draw(x0, Tensor.of(backend, t, batch), drop);
    }

    /**
     * The training loss of a batch at step {@code step}: x1 [B, C, H, W] data, mask [B, 19, S, S]
     * one-hot. Call inside a scope, then {@code loss.backward()}.
     */
    public Tensor loss(Sisma model, Tensor x1, Tensor mask, long seed, long step) {
        Draw d = draw(x1.backend(), x1.dim(0), seed, step);
        return loss(model, d.x0(), x1, d.t(), mask, d.dropMask());
    }

    /** mean((v(x_t, t, mask) - (x1 - x0))^2) for given noise and times; {@code useNull} may be null. */
    public static Tensor loss(Sisma model, Tensor x0, Tensor x1, Tensor t, Tensor mask, boolean[] useNull) {
        Tensor xt = interpolate(x0, x1, t);                                // [B, C, H, W]
        Tensor v = model.forward(xt, t, mask, useNull);                    // [B, C, H, W]
        return Ops.mseLoss(v, target(x0, x1));                             // []
    }

    /** x_t = t x1 + (1 - t) x0, t [B] broadcast over the sample. */
    public static Tensor interpolate(Tensor x0, Tensor x1, Tensor t) {
        int[] dims = new int[x0.rank()];
        java.util.Arrays.fill(dims, 1);
        dims[0] = t.dim(0);
        Tensor tt = t.reshape(dims);                                        // [B, 1, 1, 1]
        return tt.mul(x1).add(Ops.affine(tt, -1f, 1f).mul(x0));
    }

    /** The velocity target x1 - x0. */
    public static Tensor target(Tensor x0, Tensor x1) {
        return x1.sub(x0);
    }

    /** A Philox key per (seed, stream). */
    static long key(long seed, long stream) {
        return Sisma.seedFor(seed, "flow-matching/" + stream);
    }
}
