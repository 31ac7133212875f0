package dev.sisma.engine.bench;

import java.util.function.Function;

import org.osgi.annotation.versioning.ConsumerType;

import dev.sisma.engine.spi.Backend;

/**
 * Makes instances of a backend that spreads its work over host threads, at a chosen thread count.
 * A backend bundle registers it beside its {@link Backend} service, with the same
 * {@value Backend#NAME_PROPERTY}; {@code sisma bench engine} uses it to measure the backend at one
 * thread and at the count it is configured with. A backend without a thread count of its own (a GPU)
 * registers none.
 */
@ConsumerType
public interface BackendThreads {
    /** The name of the backend it makes, as {@link Backend#name()}. */
    String name();

    /** The thread count the registered backend is configured with. */
    int threads();

    /**
     * Makes a backend with {@code threads} workers, applies {@code work} to it and frees it again
     * (the backend and every buffer it handed out) before returning {@code work}'s result.
     *
     * @throws IllegalArgumentException when the backend cannot run with that many threads
     */
    <T> T withThreads(int threads, Function<Backend, T> work);
}
