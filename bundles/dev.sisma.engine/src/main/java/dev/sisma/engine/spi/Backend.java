package dev.sisma.engine.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A compute backend. Registered as an OSGi service with the properties {@value #NAME_PROPERTY}
 * (the name users pick it by) and {@code service.ranking} (higher wins when no backend is preferred).
 */
@ConsumerType
public interface Backend {
    /** Service property carrying {@link #name()}. */
    String NAME_PROPERTY = "sisma.backend.name";

    /** Short name users select it by: "cpu", "opencl", "cuda". */
    String name();

    /** The device it computes on, in words (e.g. "pthread-skylake-avx512 (PoCL 3.1)", "16 threads, 512-bit vectors"). */
    String device();
}
