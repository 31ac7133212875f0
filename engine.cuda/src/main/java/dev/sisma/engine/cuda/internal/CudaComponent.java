package dev.sisma.engine.cuda.internal;

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
 * Probes for CUDA devices when activated and registers the {@link Backend} "cuda" (alias
 * "cuda:N", see {@link Backends#ALIASES_PROPERTY}) for the configured device plus one backend
 * "cuda:N" for every other device (ranking {@value #RANK_EXTRA}: used only when chosen by name), or,
 * without a usable device, an {@link UnavailableBackend} whose one-line reason {@code sisma info}
 * prints (no driver, no device, a bad configured index, a bundle built without nvcc, a GPU older
 * than the kernels).
 *
 * <p>Ranking {@value #RANK}: above the CPU backend (0), below an OpenCL GPU (20), so on a machine
 * with both the OpenCL GPU stays the default until {@code preferred = cuda} (PID
 * dev.sisma.engine.backends) or {@code --backend cuda} picks this one.
 *
 * <p>Configuration (PID {@value #PID}): {@code device} (ordinal, default 0), {@code precision}
 * (GEMM on cuBLAS: fp32, tf32 or bf16, see {@link GemmPrecision}), {@code cublasDir} (a folder with
 * libcublas). A change re-activates the component, which closes the old devices and opens the new.
 */
@Component(configurationPid = CudaComponent.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL, service = {},
        immediate = true)
@Designate(ocd = CudaComponent.Config.class)
public final class CudaComponent {
    public static final String PID = "dev.sisma.engine.cuda";
    static final int RANK = 15;
    /** Ranking of the devices other than the default: used only when chosen by name. */
    static final int RANK_EXTRA = -12;

    @ObjectClassDefinition(name = "sisma CUDA backend")
    public @interface Config {
        @AttributeDefinition(description = "CUDA device ordinal behind the name cuda (nvidia-smi order)")
        int device() default 0;

        @AttributeDefinition(description = "GEMM precision on cuBLAS: fp32 (exact), tf32 or bf16 (tensor cores, FP32 accumulation)")
        String precision() default "fp32";

        @AttributeDefinition(description = "folder with libcublas.so.13 or .12; empty: LD_LIBRARY_PATH, java.library.path, "
                + "/usr/local/cuda/lib64; none: never cuBLAS (GEMM on the sk_gemm kernel)")
        String cublasDir() default "";
    }

    private final BackendRegistrations registrations;

    @Activate
    public CudaComponent(BundleContext context, Config config) {
        registrations = new BackendRegistrations(context);
        CudaBackend main = null;
        String reason;
        GemmPrecision precision = GemmPrecision.FP32;
        int count = 0;
        try {
            precision = GemmPrecision.parse(config.precision());
            count = CuRuntime.deviceCount();
            main = CudaBackend.open(config.device(), false, precision, config.cublasDir());
            reason = null;
        } catch (CuRuntime.Unavailable e) {
            reason = e.getMessage();
        } catch (LinkageError e) {
            reason = CuRuntime.driverLoads() ? "JCuda's driver binding did not load (" + e + ")"
                    : "no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver";
        } catch (RuntimeException e) {
            reason = "CUDA probe failed: " + e.getMessage();
        }
        if (main == null) {
            registrations.unavailable("cuda", reason);
            return;
        }
        String mainName = main.qualifiedName();
        registrations.register(main, RANK, mainName);
        for (int d = 0; d < count; d++) {
            String name = CudaBackend.qualifiedName(d);
            if (name.equals(mainName)) continue;
            try {
                registrations.register(CudaBackend.open(d, true, precision, config.cublasDir()), RANK_EXTRA, null);
            } catch (CuRuntime.Unavailable e) {
                registrations.unavailable(name, e.getMessage());
            } catch (RuntimeException e) {
                registrations.unavailable(name, "CUDA probe failed: " + e.getMessage());
            }
        }
    }

    @Deactivate
    void deactivate() {
        registrations.close();
    }
}
