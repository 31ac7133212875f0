package dev.sisma.engine.opencl.internal;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.sisma.engine.Backends;
import dev.sisma.engine.gpu.BackendRegistrations;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.UnavailableBackend;

/**
 * Probes for an OpenCL device when activated and registers either the {@link Backend} (name
 * "opencl", alias "opencl:P:D", see {@link Backends#ALIASES_PROPERTY}) plus one backend named
 * "opencl:P:D" for every other device (ranking {@value #RANK_EXTRA}: used only when chosen by name,
 * e.g. {@code --backend opencl:1:0}), or, when there is no usable device, an {@link UnavailableBackend} whose one-line
 * reason {@code sisma info} prints (no ICD loader, no platform, no device, a bad configured
 * index, a kernel build failure with the first lines of its log).
 *
 * <p>Ranking by device type: a GPU registers with {@code service.ranking} {@value #RANK_GPU}, so
 * it wins over the CPU backend (ranking 0); a CPU device (PoCL) or any other device registers
 * with {@value #RANK_OTHER}: on a CPU the pure-Java backend is faster (see docs/benchmarks.md),
 * so OpenCL there is only used when chosen by name ({@code preferred = opencl}).
 *
 * <p>Configuration (PID {@value #PID}): {@code platform} and {@code device} indices in clinfo -l
 * order; -1 (the default) picks the first GPU of any platform, else the first device. A change
 * re-activates the component, which closes the old device and opens the new one.
 */
@Component(configurationPid = OpenClComponent.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {},
        immediate = true)
@Designate(ocd = OpenClComponent.Config.class)
public final class OpenClComponent {
    public static final String PID = "dev.sisma.engine.opencl";
    static final int RANK_GPU = 20;
    static final int RANK_OTHER = -10;

    @ObjectClassDefinition(name = "sisma OpenCL backend")
    public @interface Config {
        @AttributeDefinition(description = "OpenCL platform index (clinfo -l order); -1: automatic (first GPU, else first device)")
        int platform() default -1;

        @AttributeDefinition(description = "device index within the platform; -1: automatic")
        int device() default -1;
    }

    /** Ranking of the devices other than the default: below it, so they are only used when chosen by name. */
    static final int RANK_EXTRA = RANK_OTHER - 1;

    private final BackendRegistrations registrations;

    @Activate
    public OpenClComponent(BundleContext context, Config config) {
        registrations = new BackendRegistrations(context);
        OpenClBackend main = null;
        String reason;
        try {
            main = OpenClBackend.open(config.platform(), config.device());
            reason = null;
        } catch (ClRuntime.Unavailable e) {
            reason = e.getMessage();
        } catch (LinkageError e) {
            // JOCL's native library or the ICD loader could not be loaded (ExceptionInInitializerError included)
            reason = "no OpenCL ICD loader (libOpenCL.so.1): install ocl-icd-libopencl1 and a driver, e.g. pocl-opencl-icd ("
                    + e + ")";
        } catch (RuntimeException e) {
            reason = "OpenCL probe failed: " + e.getMessage();
        }
        if (main == null) {
            registrations.unavailable("opencl", reason);
            return;
        }
        // The default device: "opencl", also found as "opencl:P:D" (Backends.ALIASES_PROPERTY).
        String mainName = main.qualifiedName();
        registrations.register(main, main.isGpu() ? RANK_GPU : RANK_OTHER, mainName);
        // Every other device under its own name, so --backend opencl:P:D reaches it. Opened (kernels
        // built) now, as the default is: a device that cannot be used is listed with its reason.
        for (int[] pd : ClRuntime.deviceIndices()) {
            String name = OpenClBackend.qualifiedName(pd[0], pd[1]);
            if (name.equals(mainName)) continue;
            try {
                registrations.register(OpenClBackend.openQualified(pd[0], pd[1]), RANK_EXTRA, null);
            } catch (ClRuntime.Unavailable e) {
                registrations.unavailable(name, e.getMessage());
            } catch (RuntimeException e) {
                registrations.unavailable(name, "OpenCL probe failed: " + e.getMessage());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registrations.close();
    }
}
