package org.example.sisma.midpoint;

import java.util.concurrent.CancellationException;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.generate.Progress;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.VelocityField;

/**
 * The explicit midpoint method (second-order Runge-Kutta): k = v(x_i, t_i);
 * x_{i+1} = x_i + h v(x_i + h/2 k, t_i + h/2). Two network calls a step, like Heun, but the second
 * call is at the middle of the step. {@code sisma generate --sampler midpoint} picks it.
 */
@Component(service = Sampler.class)
public final class MidpointSampler implements Sampler {
    @Override
    public String name() {
        return "midpoint";
    }

    @Override
    public String description() {
        return "explicit midpoint (RK2), 2 network calls a step (an example plugin)";
    }

    @Override
    public int evaluations(int steps) {
        return 2 * steps;
    }

    @Override
    public Tensor sample(VelocityField v, Tensor x0, int steps, double cfgScale, Progress progress) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        Progress p = progress == null ? Progress.NONE : progress;
        long start = System.nanoTime();
        float h = 1f / steps;
        Tensor x = x0;
        try (NoGrad ng = NoGrad.enter()) {
            for (int i = 0; i < steps; i++) {
                if (p.cancelled()) {
                    if (x != x0) {
                        x.close();
                    }
                    throw new CancellationException("sampling cancelled after " + i + " of " + steps + " steps");
                }
                float t = (float) i / steps;
                Tensor next;
                // Each step's intermediates are freed with its scope; only the new x is kept.
                try (Scope s = Scope.open()) {
                    Tensor k = v.velocity(x, t, cfgScale);
                    Tensor mid = v.velocity(x.add(k.mul(h * 0.5f)), t + h * 0.5f, cfgScale);
                    next = s.keep(x.add(mid.mul(h)));
                }
                if (x != x0) {
                    x.close();
                }
                x = next;
                p.step(i + 1, steps, (System.nanoTime() - start) / 1e9 / (i + 1));
            }
        }
        return x;
    }
}
