package dev.sisma.model.internal;

import org.osgi.service.component.annotations.Component;

import dev.sisma.engine.Tensor;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.VelocityField;

/** Euler, the paper's sampler (200 steps): x_{i+1} = x_i + h v(x_i, t_i). One network call a step. */
@Component(service = Sampler.class)
public final class EulerSampler extends OdeSampler {
    @Override
    public String name() {
        return "euler";
    }

    @Override
    public String description() {
        return "Euler, 1 network call a step (the paper: 200 steps)";
    }

    @Override
    public int evaluations(int steps) {
        return steps;
    }

    @Override
    Tensor step(VelocityField v, Tensor x, double t0, double t1, double cfgScale) {
        Tensor d = v.velocity(x, (float) t0, cfgScale);
        return x.add(d.mul((float) (t1 - t0)));
    }
}
