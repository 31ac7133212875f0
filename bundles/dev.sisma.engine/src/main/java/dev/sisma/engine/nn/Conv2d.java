package dev.sisma.engine.nn;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/** PyTorch's Conv2d (groups 1, square kernel): weight [out, in, k, k], bias [out]. Zero-initialised: see {@link Init}. */
public final class Conv2d extends Module {
    public final int stride, padding;
    public final Parameter weight, bias;

    public Conv2d(Backend backend, int in, int out, int kernel, int stride, int padding, boolean bias) {
        this.stride = stride;
        this.padding = padding;
        this.weight = parameter("weight", Tensor.zeros(backend, out, in, kernel, kernel));
        this.bias = bias ? parameter("bias", Tensor.zeros(backend, out)) : null;
    }

    /** x [N, in, H, W] to [N, out, H', W']. */
    public Tensor forward(Tensor x) {
        return Ops.conv2d(x, weight.value(), bias == null ? null : bias.value(), stride, padding);
    }
}
