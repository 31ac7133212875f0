package dev.sisma.engine.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Registered by a backend bundle whose runtime is missing (no driver, no device, a kernel build
 * failure) instead of a {@link Backend}, so {@code sisma info} can say why the backend is absent.
 */
@ConsumerType
public interface UnavailableBackend {
    String name();

    /** One line: what is missing and how to get it. */
    String reason();
}
