package dev.sisma.engine.cpu;

import org.junit.jupiter.api.AfterAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/** The shared conformance suite on the CPU backend with one thread (the serial paths run). */
class CpuSingleThreadConformanceTest extends BackendConformanceTest {
    private static final CpuBackend BACKEND = new CpuBackend(1);

    @Override
    protected Backend backend() { return BACKEND; }

    @AfterAll
    static void shutdown() { BACKEND.close(); }
}
