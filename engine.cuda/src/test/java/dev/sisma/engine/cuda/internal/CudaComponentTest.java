package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.atLeastOnce;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import org.junit.jupiter.api.Test;
import org.osgi.framework.Constants;

import dev.sisma.engine.Backends;
import dev.sisma.engine.gpu.MockContext;
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

    /** The reason registered when the component cannot offer the backend with this configuration. */
    private static String reason(int device, String precision) {
        MockContext ctx = new MockContext();
        new CudaComponent(ctx.context, config(device, precision)).deactivate();
        MockContext.Registered r = ctx.first();
        assertEquals(UnavailableBackend.class, r.type());
        assertEquals("cuda", r.props().get(Backend.NAME_PROPERTY));
        String why = ((UnavailableBackend) r.service()).reason();
        assertFalse(why.contains("\n"), why);
        return why;
    }

    @Test
    void registersTheBackendOrSaysWhyNot() {
        MockContext ctx = new MockContext();
        CudaComponent c = new CudaComponent(ctx.context, config(0, "fp32"));
        try {
            MockContext.Registered r = ctx.first();
            assertEquals("cuda", r.props().get(Backend.NAME_PROPERTY));
            if (!CuRuntime.driverLoads()) {
                assertEquals(UnavailableBackend.class, r.type());
                assertEquals("no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver", ((UnavailableBackend) r.service()).reason());
            } else if (r.type() == UnavailableBackend.class) {
                // a driver but no GPU is the only acceptable reason on a machine with the driver
                String why = ((UnavailableBackend) r.service()).reason();
                assertTrue(why.startsWith("no CUDA device"), why);
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
        verify(ctx.registration, atLeastOnce()).unregister();
    }

    @Test
    void anUnknownPrecisionIsAOneLineReasonNamingTheProperty() {
        String why = reason(0, "fp16");
        assertTrue(why.contains("unknown GEMM precision 'fp16'") && why.contains("property precision"), why);
    }

    @Test
    void aBadDeviceIndexNamesTheDeviceProperty() {
        String why = reason(99, "tf32");
        assertTrue(CuRuntime.driverLoads() ? why.contains("configured CUDA device 99 does not exist") || why.startsWith("no CUDA device")
                : why.startsWith("no CUDA driver"), why);
    }
}
