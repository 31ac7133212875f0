package dev.sisma.engine;

import java.util.List;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import dev.sisma.engine.spi.Backend;

/**
 * The registered compute backends and the one in use: the configured preferred backend when it is
 * present, else the one with the highest {@code service.ranking}. Configured through Config Admin,
 * PID {@value #PID}, property {@code preferred}.
 */
@ProviderType
public interface Backends {
    String PID = "dev.sisma.engine.backends";

    /** Every registered backend, highest ranking first. */
    List<Backend> all();

    /** The backend in use, if any is registered. */
    Optional<Backend> current();

    /** The backend called {@code name}, if registered. */
    Optional<Backend> byName(String name);

    /** The preferred backend name from configuration, or null. */
    String preferred();
}
