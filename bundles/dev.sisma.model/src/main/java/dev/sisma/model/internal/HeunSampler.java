package dev.sisma.model.internal;

import org.osgi.service.component.annotations.Component;

import dev.sisma.engine.Tensor;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.VelocityField;

/**
 * Heun (trapezoidal predictor-corrector), corrected on every step including the last:
 * d1 = v(x_i, t_i); d2 = v(x_i + h d1, t_{i+1}); x_{i+1} = x_i + h (d1 + d2) / 2. Two calls a step.
 */
@Component(service = Sampler.class)
public final class HeunSampler extends OdeSampler {
    @Override
    public String name() {
        return "heun";
    }

    @Override
    public String description() {
        return "Heun, 2 network calls a step, second order";
    }

    @Override
    public int evaluations(int steps) {
        return 2 * steps;
    }

    @Override
    Tensor step(VelocityField v, Tensor x, double t0, double t1, double cfgScale) {
        float h = (float) (t1 - t0);
        Tensor d1 = v.velocity(x, (float) t0, cfgScale);
        Tensor d2 = v.velocity(x.add(d1.mul(h)), (float) t1, cfgScale);
        return x.add(d1.add(d2).mul(h * 0.5f));
    }
}
