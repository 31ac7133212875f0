package dev.sisma.engine.opencl.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.util.Dictionary;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;

import dev.sisma.engine.Backends;
import dev.sisma.engine.gpu.MockContext;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.UnavailableBackend;
import dev.sisma.engine.testkit.RuntimeRequirement;

/** What the DS component registers: the backend with a ranking by device type, or a reason why not. */
class OpenClComponentTest {

    private static OpenClComponent.Config config(int platform, int device) {
        OpenClComponent.Config c = mock(OpenClComponent.Config.class);
        when(c.platform()).thenReturn(platform);
        when(c.device()).thenReturn(device);
        return c;
    }

    @Test
    void aBadPlatformIndexRegistersUnavailableBackendWithTheReason() {
        MockContext ctx = new MockContext();
        OpenClComponent c = new OpenClComponent(ctx.context, config(7, -1));
        MockContext.Registered r = ctx.first();
        assertEquals(UnavailableBackend.class, r.type());
        UnavailableBackend u = (UnavailableBackend) r.service();
        assertEquals("opencl", u.name());
        assertEquals("opencl", r.props().get(Backend.NAME_PROPERTY));
        // With PoCL installed: the index is wrong; on a machine without OpenCL: the loader or platform is missing.
        assertTrue(u.reason().contains("configured OpenCL platform 7 does not exist") || u.reason().contains("no OpenCL"), u.reason());
        assertTrue(!u.reason().contains("\n"), "one line: " + u.reason());
        c.deactivate();
        verify(ctx.registration).unregister();
    }

    @Test
    void aBadDeviceIndexNamesTheDeviceProperty() {
        MockContext ctx = new MockContext();
        new OpenClComponent(ctx.context, config(0, 99)).deactivate();
        MockContext.Registered r = ctx.first();
        assertEquals(UnavailableBackend.class, r.type());
        String reason = ((UnavailableBackend) r.service()).reason();
        assertTrue(reason.contains("device 99 does not exist") || reason.contains("no OpenCL"), reason);
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aUsableDeviceRegistersTheBackendRankedByDeviceType() {
        MockContext ctx = new MockContext();
        OpenClComponent c = new OpenClComponent(ctx.context, config(-1, -1));
        MockContext.Registered r = ctx.first();
        try {
            RuntimeRequirement.require(r.type() == Backend.class, "an OpenCL device: " + r.service());
            OpenClBackend b = (OpenClBackend) r.service();
            assertEquals("opencl", b.name());
            assertEquals("opencl", r.props().get(Backend.NAME_PROPERTY));
            assertEquals(b.isGpu() ? 20 : -10, r.props().get(Constants.SERVICE_RANKING));
            // the default device also answers to opencl:P:D (--backend opencl:0:0)
            assertTrue(b.qualifiedName().matches("opencl:\\d+:\\d+"), b.qualifiedName());
            assertArrayEquals(new String[] {b.qualifiedName()}, (String[]) r.props().get(Backends.ALIASES_PROPERTY));
            int devices = ClRuntime.deviceIndices().size();
            verify(ctx.context, org.mockito.Mockito.times(devices)).registerService((Class) any(Class.class), (Object) any(), (Dictionary) any(Dictionary.class));
        } finally {
            c.deactivate();
        }
        verify(ctx.registration, atLeastOnce()).unregister();
    }
}
