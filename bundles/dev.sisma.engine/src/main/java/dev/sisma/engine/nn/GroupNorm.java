package dev.sisma.engine.nn;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/** GroupNorm over [N, C, ...] with per-channel weight [C] = 1 and bias [C] = 0 (PyTorch names). */
public final class GroupNorm extends Module {
    public final int groups;
    public final float eps;
    public final Parameter weight, bias;

    public GroupNorm(Backend backend, int groups, int channels, float eps) {
        this.groups = groups;
        this.eps = eps;
        this.weight = parameter("weight", Tensor.full(backend, 1f, channels)).weightDecay(false);
        this.bias = parameter("bias", Tensor.zeros(backend, channels)).weightDecay(false);
    }

    public Tensor forward(Tensor x) {
        return Ops.groupNorm(x, groups, weight.value(), bias.value(), eps);
    }
}
