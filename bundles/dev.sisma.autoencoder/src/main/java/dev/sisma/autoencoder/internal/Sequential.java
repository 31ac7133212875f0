package dev.sisma.autoencoder.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Module;

/**
 * PyTorch's {@code nn.Sequential}: layers run in order and are named by their index, so weight
 * names such as {@code 3.conv.4.weight} match a PyTorch state dict; a parameter-free layer (ReLU,
 * upsampling) takes an index too, as there.
 */
final class Sequential extends Module {
    private final List<UnaryOperator<Tensor>> layers = new ArrayList<>();

    /** Adds a layer with parameters under the next index; returns it. */
    <M extends Module> M add(M module, UnaryOperator<Tensor> forward) {
        module(Integer.toString(layers.size()), module);
        layers.add(forward);
        return module;
    }

    /** Adds a parameter-free layer under the next index. */
    void add(UnaryOperator<Tensor> forward) {
        layers.add(forward);
    }

    /** Runs the layers in order (see {@link #step}). */
    Tensor forward(Tensor x) {
        Tensor cur = x;
        for (UnaryOperator<Tensor> layer : layers) {
            cur = step(cur, x, layer);
        }
        return cur;
    }

    /**
     * {@code layer(cur)}. Without a gradient to keep activations for, the layer runs in its own scope
     * and {@code cur} is freed once it has run (unless it is {@code callerInput}), so a pass over a
     * 256x256 image holds a few activations at a time instead of all of them.
     */
    static Tensor step(Tensor cur, Tensor callerInput, UnaryOperator<Tensor> layer) {
        if (NoGrad.gradEnabled()) {
            return layer.apply(cur);
        }
        Tensor next;
        try (Scope s = Scope.open()) {
            next = s.keep(layer.apply(cur));
        }
        if (cur != callerInput && next != cur) {
            cur.close();
        }
        return next;
    }
}
