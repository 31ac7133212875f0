package dev.sisma.engine.cpu;

import java.util.Set;

import org.junit.jupiter.api.AfterAll;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/**
 * The conformance suite on the SPI's default composites: a backend with only the primitives (the
 * CPU backend's), so softmax, the norms, convolutions, the scan, AdamW, random numbers and the rest
 * run as written once in the engine.
 */
class CompositeConformanceTest extends BackendConformanceTest {
    private static final CpuBackend CPU = new CpuBackend(2);

    @Override
    protected Backend backend() { return new PrimitivesOnly(CPU, Set.of()); }

    @AfterAll
    static void shutdown() { CPU.close(); }
}
