package dev.sisma.model.sampling;

import java.util.List;
import java.util.Optional;

import dev.sisma.model.internal.EulerSampler;
import dev.sisma.model.internal.HeunSampler;

/** The built-in samplers, for use without OSGi (in OSGi, ask for {@link Sampler} services instead). */
public final class Samplers {
    private static final List<Sampler> BUILT_IN = List.of(new EulerSampler(), new HeunSampler());

    private Samplers() {
    }

    /** Euler (the paper's) and Heun. */
    public static List<Sampler> builtIn() {
        return BUILT_IN;
    }

    /** The built-in sampler called {@code name}. */
    public static Optional<Sampler> byName(String name) {
        return BUILT_IN.stream().filter(s -> s.name().equals(name)).findFirst();
    }

    /** Names of the built-in samplers. */
    public static List<String> names() {
        return BUILT_IN.stream().map(Sampler::name).toList();
    }
}
