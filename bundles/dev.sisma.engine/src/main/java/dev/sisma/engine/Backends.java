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

    /**
     * Optional {@code Backend} service property: further names ({@code String} or {@code String[]})
     * that {@link #byName} finds the backend by, besides its {@code name()}; e.g. the default OpenCL
     * device, named "opencl", also answers to "opencl:0:0" (platform and device index).
     */
    String ALIASES_PROPERTY = "sisma.backend.aliases";

    /** Every registered backend, highest ranking first. */
    List<Backend> all();

    /** The backend in use, if any is registered. */
    Optional<Backend> current();

    /** The backend called {@code name} or registered with {@code name} among its {@link #ALIASES_PROPERTY}, if any. */
    Optional<Backend> byName(String name);

    /** The preferred backend name from configuration, or null. */
    String preferred();
}
