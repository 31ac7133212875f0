package dev.sisma.engine.spi;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * Memory owned by one {@link Backend}: a contiguous array of {@link #size()} float32 values.
 * Opaque to everything above the backend; only the backend that made it may read or write it.
 * Not thread-safe for concurrent writes; {@link #close()} is idempotent and frees the memory
 * (a buffer that aliases caller memory, see {@link Backend#map}, frees nothing).
 */
@ConsumerType
public interface DeviceBuffer extends AutoCloseable {
    /** Length in float32 elements. */
    long size();

    /** Frees the memory. Idempotent. Using the buffer afterwards is an error (IllegalStateException where detectable). */
    @Override
    void close();
}
