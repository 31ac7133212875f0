package dev.sisma.model.internal;

import java.util.concurrent.CancellationException;

import dev.sisma.api.generate.Progress;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.VelocityField;

/** Shared loop of the fixed-grid samplers: t_i = i / steps, one scope per step, progress and cancel. */
abstract class OdeSampler implements Sampler {

    /** One step from x at t0 to t1 (h = t1 - t0); returns the new x (in the current scope). */
    abstract Tensor step(VelocityField v, Tensor x, double t0, double t1, double cfgScale);

    @Override
    public final Tensor sample(VelocityField v, Tensor x0, int steps, double cfgScale, Progress progress) {
        if (steps < 1) {
            throw new IllegalArgumentException("steps must be at least 1, got " + steps);
        }
        Progress p = progress == null ? Progress.NONE : progress;
        long start = System.nanoTime();
        Tensor x = x0;
        try (NoGrad ng = NoGrad.enter()) {
            for (int i = 0; i < steps; i++) {
                if (p.cancelled()) {
                    if (x != x0) {
                        x.close();
                    }
                    throw new CancellationException("sampling cancelled after " + i + " of " + steps + " steps");
                }
                Tensor next;
                try (Scope s = Scope.open()) {
                    next = s.keep(step(v, x, (double) i / steps, (double) (i + 1) / steps, cfgScale));
                }
                if (x != x0) {
                    x.close(); // the previous iterate is no longer needed
                }
                x = next;
                p.step(i + 1, steps, (System.nanoTime() - start) / 1e9 / (i + 1));
            }
        }
        return x;
    }
}
