package dev.sisma.engine.cpu;

import org.junit.jupiter.api.AfterAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/** The shared conformance suite on the CPU backend, with two workers (the parallel paths run). */
class CpuConformanceTest extends BackendConformanceTest {
    private static final CpuBackend BACKEND = new CpuBackend(2);

    @Override
    protected Backend backend() { return BACKEND; }

    @AfterAll
    static void shutdown() { BACKEND.close(); }
}
