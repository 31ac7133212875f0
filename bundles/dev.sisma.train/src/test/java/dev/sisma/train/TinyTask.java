package dev.sisma.train;

import java.util.Map;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Linear;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.train.internal.TrainingTask;

/** A tiny regression model and task for the loop's tests: y = (W2 silu(W1 x + b1) + b2) * exp(A_log), target tanh(x). */
final class TinyTask implements TrainingTask {
    static final int WIDTH = 4;

    static final class TinyModel extends Module {
        final Linear in, out;
        final Parameter aLog;

        TinyModel(Backend be, long seed) {
            in = module("in_proj", new Linear(be, WIDTH, 8, true));
            out = module("out_proj", new Linear(be, 8, WIDTH, true));
            aLog = parameter("A_log", Tensor.zeros(be, WIDTH));
            // deterministic init from Philox (the engine's init helpers are the model's business)
            init(in.weight, seed, 1, 0.5f);
            init(out.weight, seed, 2, 0.5f);
        }

        private static void init(Parameter p, long seed, long offset, float scale) {
            try (NoGrad ng = NoGrad.enter()) {
                Tensor r = Tensor.randn(p.value().backend(), seed, offset << 32, p.value().shape().dims());
                p.set(Ops.affine(r, scale, 0f));
            }
        }

        Tensor forward(Tensor x) {
            Tensor h = Ops.silu(in.forward(x));
            return Ops.mul(out.forward(h), Ops.exp(aLog.value()));
        }
    }

    final TinyModel model, ema;
    final Backend be;

    TinyTask(Backend be) {
        this.be = be;
        model = new TinyModel(be, 7);
        ema = new TinyModel(be, 7);
        ema.namedParameters().values().forEach(p -> p.trainable(false));
    }

    @Override
    public Map<String, Parameter> parameters() {
        return model.namedParameters();
    }

    @Override
    public Map<String, Parameter> emaParameters() {
        return ema.namedParameters();
    }

    @Override
    public Tensor loss(long step, long seed, int batch) {
        Tensor x = Tensor.randn(be, seed, step << 20, batch, WIDTH);
        Tensor target = Ops.tanh(x);
        return Ops.mseLoss(model.forward(x), target);
    }

    @Override
    public String configJson() {
        return "{\"name\":\"tiny\"}";
    }
}
