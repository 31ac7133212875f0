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
import org.mockito.ArgumentCaptor;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import dev.sisma.engine.Backends;
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

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static BundleContext context(ServiceRegistration reg) {
        BundleContext ctx = mock(BundleContext.class);
        when(ctx.registerService((Class) any(Class.class), (Object) any(), (Dictionary) any(Dictionary.class))).thenReturn(reg);
        return ctx;
    }

    /** The first registration the component made (the default device; one per further device follows): type, service, properties. */
    private record Registered(Class<?> type, Object service, Dictionary<?, ?> props) {}

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Registered registered(BundleContext ctx) {
        ArgumentCaptor<Class> type = ArgumentCaptor.forClass(Class.class);
        ArgumentCaptor<Object> service = ArgumentCaptor.forClass(Object.class);
        ArgumentCaptor<Dictionary> props = ArgumentCaptor.forClass(Dictionary.class);
        verify(ctx, atLeastOnce()).registerService((Class) type.capture(), (Object) service.capture(), (Dictionary) props.capture());
        return new Registered(type.getAllValues().get(0), service.getAllValues().get(0), props.getAllValues().get(0));
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aBadPlatformIndexRegistersUnavailableBackendWithTheReason() {
        ServiceRegistration reg = mock(ServiceRegistration.class);
        BundleContext ctx = context(reg);
        OpenClComponent c = new OpenClComponent(ctx, config(7, -1));
        Registered r = registered(ctx);
        assertEquals(UnavailableBackend.class, r.type());
        UnavailableBackend u = (UnavailableBackend) r.service();
        assertEquals("opencl", u.name());
        assertEquals("opencl", r.props().get(Backend.NAME_PROPERTY));
        // With PoCL installed: the index is wrong; on a machine without OpenCL: the loader or platform is missing.
        assertTrue(u.reason().contains("configured OpenCL platform 7 does not exist") || u.reason().contains("no OpenCL"), u.reason());
        assertTrue(!u.reason().contains("\n"), "one line: " + u.reason());
        c.deactivate();
        verify(reg).unregister();
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aBadDeviceIndexNamesTheDeviceProperty() {
        BundleContext ctx = context(mock(ServiceRegistration.class));
        new OpenClComponent(ctx, config(0, 99)).deactivate();
        Registered r = registered(ctx);
        assertEquals(UnavailableBackend.class, r.type());
        String reason = ((UnavailableBackend) r.service()).reason();
        assertTrue(reason.contains("device 99 does not exist") || reason.contains("no OpenCL"), reason);
    }

    @Test
    @SuppressWarnings({"unchecked", "rawtypes"})
    void aUsableDeviceRegistersTheBackendRankedByDeviceType() {
        ServiceRegistration reg = mock(ServiceRegistration.class);
        BundleContext ctx = context(reg);
        OpenClComponent c = new OpenClComponent(ctx, config(-1, -1));
        Registered r = registered(ctx);
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
            verify(ctx, org.mockito.Mockito.times(devices)).registerService((Class) any(Class.class), (Object) any(), (Dictionary) any(Dictionary.class));
        } finally {
            c.deactivate();
        }
        verify(reg, atLeastOnce()).unregister();
    }
}
