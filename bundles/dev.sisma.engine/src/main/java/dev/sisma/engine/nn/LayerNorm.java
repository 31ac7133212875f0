package dev.sisma.engine.nn;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/** LayerNorm over the last axis; with affine, weight [C] = 1 and bias [C] = 0 (PyTorch names). */
public final class LayerNorm extends Module {
    public final float eps;
    public final Parameter weight, bias;

    public LayerNorm(Backend backend, int dim, float eps, boolean affine) {
        this.eps = eps;
        this.weight = affine ? parameter("weight", Tensor.full(backend, 1f, dim)).weightDecay(false) : null;
        this.bias = affine ? parameter("bias", Tensor.zeros(backend, dim)).weightDecay(false) : null;
    }

    public Tensor forward(Tensor x) {
        return Ops.layerNorm(x, weight == null ? null : weight.value(), bias == null ? null : bias.value(), eps);
    }
}
