package dev.sisma.engine;

import java.util.concurrent.atomic.AtomicInteger;

import dev.sisma.engine.spi.DeviceBuffer;

/** A backend buffer shared by a tensor and its views (reshape, detach); freed when the last one closes. */
final class Storage {
    final DeviceBuffer buffer;
    private final AtomicInteger refs = new AtomicInteger(1);

    Storage(DeviceBuffer buffer) { this.buffer = buffer; }

    Storage retain() {
        if (refs.getAndIncrement() <= 0) throw new IllegalStateException("tensor storage already freed");
        return this;
    }

    void release() {
        if (refs.decrementAndGet() == 0) buffer.close();
    }
}
