package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.cpu.internal.CpuBackendThreads;

class CpuBackendConfigTest {
    private final int cores = Runtime.getRuntime().availableProcessors();

    @Test
    void threadsDefaultToAllCores() {
        assertEquals(cores, CpuBackend.threadsFrom(Map.of()));
        assertEquals(cores, CpuBackend.threadsFrom(Map.of("threads", 0)));
        assertEquals(3, CpuBackend.threadsFrom(Map.of("threads", 3)));
        assertEquals(5, CpuBackend.threadsFrom(Map.of("threads", " 5 ")));
    }

    @Test
    void badThreadsGetAClearError() {
        var e = assertThrows(IllegalArgumentException.class, () -> CpuBackend.threadsFrom(Map.of("threads", "many")));
        assertTrue(e.getMessage().contains("dev.sisma.engine.cpu") && e.getMessage().contains("many"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> CpuBackend.threadsFrom(Map.of("threads", -2)));
        assertTrue(e.getMessage().contains("-2"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new CpuBackend(0));
    }

    @Test
    void describesItsDevice() {
        try (CpuBackend be = new CpuBackend(2)) {
            assertEquals("cpu", be.name());
            assertTrue(be.device().matches("2 threads, \\d+-bit vectors \\(.+\\)"), be.device());
        }
        try (CpuBackend be = new CpuBackend(1)) {
            assertTrue(be.device().startsWith("1 thread, "), be.device());
        }
    }

    @Test
    void benchThreadsFollowTheConfigurationAndMakeBackendsAtAnyCount() {
        assertEquals(3, new CpuBackendThreads(Map.of("threads", 3)).threads());
        assertEquals(cores, new CpuBackendThreads(Map.of()).threads());
        CpuBackendThreads threads = new CpuBackendThreads(Map.of());
        assertEquals("cpu", threads.name());
        assertEquals("1 thread, ", threads.withThreads(1, be -> be.device().substring(0, 10)));
        assertEquals("cpu", threads.withThreads(2, be -> be.name()));
    }
}
