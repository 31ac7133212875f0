package dev.sisma.engine.nn;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/** PyTorch's Linear: weight [out, in], bias [out]; y = x W^T + b over the last axis. Zero-initialised: see {@link Init}. */
public final class Linear extends Module {
    public final int in, out;
    public final Parameter weight, bias;

    public Linear(Backend backend, int in, int out, boolean bias) {
        this.in = in;
        this.out = out;
        this.weight = parameter("weight", Tensor.zeros(backend, out, in));
        this.bias = bias ? parameter("bias", Tensor.zeros(backend, out)) : null;
    }

    /** x [..., in] to [..., out]. */
    public Tensor forward(Tensor x) {
        return Ops.linear(x, weight.value(), bias == null ? null : bias.value());
    }
}
