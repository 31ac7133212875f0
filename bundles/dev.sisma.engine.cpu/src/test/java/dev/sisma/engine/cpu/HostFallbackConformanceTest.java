package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BackendOp;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.HostFallback;
import dev.sisma.engine.spi.UnaryOp;
import dev.sisma.engine.testkit.BackendConformanceTest;

/**
 * The conformance suite through {@link HostFallback} in front of a backend that lacks a primitive
 * (compare), a composite (the scan's backward) and GEMM: those run on a second CPU backend with
 * the buffers copied, composites that use them run here with just the missing primitive moved.
 */
class HostFallbackConformanceTest extends BackendConformanceTest {
    private static final CpuBackend DEVICE = new CpuBackend(2), HOST = new CpuBackend(1);
    private static final Set<BackendOp> LACKING = Set.of(BackendOp.COMPARE, BackendOp.GEMM, BackendOp.SELECTIVE_SCAN_BACKWARD);

    private final List<String> notes = new ArrayList<>();
    private PrimitivesOnly device;

    @Override
    protected Backend backend() {
        device = new PrimitivesOnly(DEVICE, LACKING);
        return new HostFallback(device, () -> HOST, notes::add);
    }

    @AfterAll
    static void shutdown() {
        DEVICE.close();
        HOST.close();
    }

    @Test
    public void movedOpsNeverRunOnTheDeviceAndAreNotedOnce() {
        Backend be = be();
        assertTrue(HostFallback.needed(device));
        int n = 50;
        try (DeviceBuffer x = be.upload(new float[n]); DeviceBuffer dy = be.upload(new float[n]); DeviceBuffer dx = be.allocate(n)) {
            for (int i = 0; i < 2; i++) be.unaryBackward(UnaryOp.RELU, x, dy, dx, n); // a composite using compare
            be.gemm(false, false, 1, 1, 1, 1, 1f, x, 0, dy, 0, 0f, dx, null);
        }
        assertEquals(0, device.calls[BackendOp.COMPARE.ordinal()], "compare ran on the device");
        assertEquals(0, device.calls[BackendOp.GEMM.ordinal()], "gemm ran on the device");
        assertTrue(device.calls[BackendOp.SELECT.ordinal()] >= 2, "select stays on the device");
        assertEquals(List.of("backend primitives-only does not support compare: it runs on cpu, with its buffers copied there and back",
                "backend primitives-only does not support gemm: it runs on cpu, with its buffers copied there and back"), notes);
    }
}
