package dev.sisma.engine.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;

import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;

/** Lookup by name and by alias (opencl:P:D), ordering by ranking, the preferred backend by alias. */
class BackendRegistryTest {
    private static Backend backend(String name) {
        Backend b = mock(Backend.class);
        when(b.name()).thenReturn(name);
        when(b.supports(any())).thenReturn(true);
        return b;
    }

    private static Map<String, Object> props(long id, int ranking, Object aliases) {
        Map<String, Object> p = new HashMap<>();
        p.put(Constants.SERVICE_ID, id);
        p.put(Constants.SERVICE_RANKING, ranking);
        if (aliases != null) p.put(Backends.ALIASES_PROPERTY, aliases);
        return p;
    }

    private static BackendRegistry.Config preferred(String name) {
        BackendRegistry.Config c = mock(BackendRegistry.Config.class);
        when(c.preferred()).thenReturn(name);
        return c;
    }

    @Test
    void findsBackendsByNameAndAlias() {
        BackendRegistry r = new BackendRegistry();
        r.configure(preferred(""));
        Backend cpu = backend("cpu"), ocl = backend("opencl"), other = backend("opencl:1:0");
        r.addBackend(cpu, props(1, 0, null));
        r.addBackend(ocl, props(2, -10, new String[] {"opencl:0:0"}));
        r.addBackend(other, props(3, -11, "opencl:1:0:alias"));
        assertEquals(List.of(cpu, ocl, other), r.all());
        assertSame(cpu, r.current().orElseThrow());
        assertSame(ocl, r.byName("opencl").orElseThrow());
        assertSame(ocl, r.byName("opencl:0:0").orElseThrow());
        assertSame(other, r.byName("opencl:1:0").orElseThrow());
        assertSame(other, r.byName("opencl:1:0:alias").orElseThrow());
        assertTrue(r.byName("opencl:2:0").isEmpty());
        r.configure(preferred("opencl:0:0"));
        assertSame(ocl, r.current().orElseThrow());
        r.removeBackend(ocl, props(2, -10, new String[] {"opencl:0:0"}));
        assertTrue(r.byName("opencl:0:0").isEmpty());
        assertSame(cpu, r.current().orElseThrow());
    }

    @Test
    void aBackendLackingAnOpRunsItOnAnotherBackend() {
        BackendRegistry r = new BackendRegistry();
        Backend cpu = backend("cpu"), small = backend("small");
        when(small.supports(dev.sisma.engine.spi.BackendOp.SELECT)).thenReturn(false);
        when(cpu.upload(any(float[].class))).thenAnswer(a -> mock(dev.sisma.engine.spi.DeviceBuffer.class));
        r.addBackend(cpu, props(1, 0, null));
        r.addBackend(small, props(2, 5, null));
        Backend front = r.byName("small").orElseThrow();
        assertTrue(front instanceof dev.sisma.engine.spi.HostFallback, "registered behind a HostFallback");
        assertSame(small, ((dev.sisma.engine.spi.HostFallback) front).wrapped());
        assertSame(cpu, r.byName("cpu").orElseThrow(), "a backend that supports everything is registered as it is");
        dev.sisma.engine.spi.DeviceBuffer buf = mock(dev.sisma.engine.spi.DeviceBuffer.class);
        front.select(buf, new long[] {1}, buf, new long[] {1}, buf, new long[] {1}, buf, new int[] {0});
        verify(small, never()).select(any(), any(), any(), any(), any(), any(), any(), any());
        verify(cpu).select(any(), any(), any(), any(), any(), any(), any(), any());
    }
}
