package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
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

/**
 * What the DS component registers: the backend, or a one-line reason why not. Runs everywhere:
 * whether this machine has a CUDA driver is asked without JCuda (CuRuntime.driverLoads loads
 * libcuda.so.1 through the FFM API), and the expectation follows.
 */
class CudaComponentTest {

    private static CudaComponent.Config config(int device, String precision) {
        CudaComponent.Config c = mock(CudaComponent.Config.class);
        when(c.device()).thenReturn(device);
        when(c.precision()).thenReturn(precision);
        when(c.cublasDir()).thenReturn("");
        return c;
    }

    private record Registered(Class<?> type, Object service, Dictionary<?, ?> props) {}

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static Registered first(BundleContext ctx) {
        ArgumentCaptor<Class> type = ArgumentCaptor.forClass(Class.class);
        ArgumentCaptor<Object> service = ArgumentCaptor.forClass(Object.class);
        ArgumentCaptor<Dictionary> props = ArgumentCaptor.forClass(Dictionary.class);
        verify(ctx, atLeastOnce()).registerService((Class) type.capture(), (Object) service.capture(), (Dictionary) props.capture());
        return new Registered(type.getAllValues().get(0), service.getAllValues().get(0), props.getAllValues().get(0));
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    private static BundleContext context(ServiceRegistration reg) {
        BundleContext ctx = mock(BundleContext.class);
        when(ctx.registerService((Class) any(Class.class), (Object) any(), (Dictionary) any(Dictionary.class))).thenReturn(reg);
        return ctx;
    }

    @Test
    @SuppressWarnings("rawtypes")
    void registersTheBackendOrSaysWhyNot() {
        ServiceRegistration reg = mock(ServiceRegistration.class);
        BundleContext ctx = context(reg);
        CudaComponent c = new CudaComponent(ctx, config(0, "fp32"));
        try {
            Registered r = first(ctx);
            assertEquals("cuda", r.props().get(Backend.NAME_PROPERTY));
            if (!CuRuntime.driverLoads()) {
                assertEquals(UnavailableBackend.class, r.type());
                String reason = ((UnavailableBackend) r.service()).reason();
                assertEquals("no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver", reason);
                assertFalse(reason.contains("\n"), reason);
            } else if (r.type() == UnavailableBackend.class) {
                // a driver but no GPU is the only acceptable reason on a machine with the driver
                String reason = ((UnavailableBackend) r.service()).reason();
                assertTrue(reason.startsWith("no CUDA device"), reason);
            } else {
                CudaBackend b = (CudaBackend) r.service();
                assertEquals("cuda", b.name());
                assertEquals(CudaComponent.RANK, r.props().get(Constants.SERVICE_RANKING));
                assertArrayEquals(new String[] {"cuda:0"}, (String[]) r.props().get(Backends.ALIASES_PROPERTY));
                assertTrue(b.device().contains("device 0"), b.device());
            }
        } finally {
            c.deactivate();
        }
        verify(reg, atLeastOnce()).unregister();
    }

    @Test
    void anUnknownPrecisionIsAOneLineReasonNamingTheProperty() {
        ServiceRegistration<?> reg = mock(ServiceRegistration.class);
        BundleContext ctx = context(reg);
        new CudaComponent(ctx, config(0, "fp16")).deactivate();
        Registered r = first(ctx);
        assertEquals(UnavailableBackend.class, r.type());
        String reason = ((UnavailableBackend) r.service()).reason();
        assertTrue(reason.contains("unknown GEMM precision 'fp16'") && reason.contains("property precision"), reason);
    }

    @Test
    void aBadDeviceIndexNamesTheDeviceProperty() {
        ServiceRegistration<?> reg = mock(ServiceRegistration.class);
        BundleContext ctx = context(reg);
        new CudaComponent(ctx, config(99, "tf32")).deactivate();
        Registered r = first(ctx);
        assertEquals(UnavailableBackend.class, r.type());
        String reason = ((UnavailableBackend) r.service()).reason();
        assertTrue(CuRuntime.driverLoads() ? reason.contains("configured CUDA device 99 does not exist") || reason.startsWith("no CUDA device")
                : reason.startsWith("no CUDA driver"), reason);
    }
}
