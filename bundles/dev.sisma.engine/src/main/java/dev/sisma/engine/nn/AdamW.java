package dev.sisma.engine.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * PyTorch's AdamW over a module's parameters, one fused {@link dev.sisma.engine.spi.Backend#adamw}
 * call per parameter. Parameters with {@link Parameter#weightDecay()} false get no decay; frozen
 * parameters and parameters without a gradient are skipped (their moments stay as they are).
 * The moment buffers live on the parameters' backend until {@link #close()}.
 */
public final class AdamW implements AutoCloseable {
    private final List<Parameter> params;
    private final Map<Parameter, DeviceBuffer[]> moments = new IdentityHashMap<>();
    private float lr;
    private final float beta1, beta2, eps, weightDecay;
    private long step;

    /** PyTorch defaults: betas (0.9, 0.999), eps 1e-8; {@code weightDecay} 0 for SISMA. */
    public AdamW(List<Parameter> params, float lr, float weightDecay) {
        this(params, lr, 0.9f, 0.999f, 1e-8f, weightDecay);
    }

    public AdamW(List<Parameter> params, float lr, float beta1, float beta2, float eps, float weightDecay) {
        if (!(lr >= 0) || !(beta1 >= 0 && beta1 < 1) || !(beta2 >= 0 && beta2 < 1) || !(eps >= 0) || !(weightDecay >= 0))
            throw new IllegalArgumentException("AdamW: bad hyper-parameters lr=" + lr + " betas=(" + beta1 + ", " + beta2 + ") eps=" + eps + " weightDecay=" + weightDecay);
        this.params = new ArrayList<>(params);
        this.lr = lr;
        this.beta1 = beta1;
        this.beta2 = beta2;
        this.eps = eps;
        this.weightDecay = weightDecay;
    }

    public void learningRate(float lr) { this.lr = lr; }

    public float learningRate() { return lr; }

    /** Steps taken so far. */
    public long steps() { return step; }

    /** One update from the accumulated gradients (call {@link Module#zeroGrad()} afterwards). */
    public void step() {
        step++;
        for (Parameter p : params) {
            Tensor v = p.value(), g = v.grad();
            if (g == null || !p.trainable()) continue;
            DeviceBuffer[] mv = moments.computeIfAbsent(p, k -> new DeviceBuffer[] {
                    v.backend().allocate(v.size()), v.backend().allocate(v.size())});
            v.backend().adamw(v.buffer(), g.buffer(), mv[0], mv[1], v.size(), lr, beta1, beta2, eps,
                    p.weightDecay() ? weightDecay : 0f, step);
        }
    }

    @Override
    public void close() {
        for (DeviceBuffer[] mv : moments.values()) { mv[0].close(); mv[1].close(); }
        moments.clear();
    }
}
