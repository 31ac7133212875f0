package dev.sisma.engine.opencl.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.gpu.GpuBench;
import dev.sisma.engine.spi.Backend;

/**
 * A plain benchmark (not a test): GEMM GFLOPS at the three shapes of {@link GpuBench#GEMMS} and the
 * selective scan forward and backward (GpuBench), for the OpenCL backend and, in the same run, the
 * CPU backend (all cores), printed as JSON with the ratio.
 * Run: {@code java -cp <test classpath> dev.sisma.engine.opencl.internal.OpenClBench [reps]}.
 */
public final class OpenClBench {
    private OpenClBench() {}

    public static void main(String[] args) throws Exception {
        int reps = args.length > 0 ? Integer.parseInt(args[0]) : 5;
        List<String> rows = new ArrayList<>();
        try (OpenClBackend ocl = OpenClBackend.open(-1, -1); CpuBackend cpu = new CpuBackend()) {
            double[] o = measure(ocl, reps), c = measure(cpu, reps);
            String[] names = {"gemm_1024x1024x1024_gflops", "gemm_256x1024x4096_gflops", "gemm_256x4096x1024_gflops",
                    "scan_fwd_b1_l256_e2048_n16_ms", "scan_bwd_b1_l256_e2048_n16_ms"};
            for (int i = 0; i < names.length; i++) {
                double ratio = i < 3 ? o[i] / c[i] : c[i] / o[i]; // > 1: OpenCL faster
                rows.add(String.format(Locale.ROOT, "    \"%s\": {\"opencl\": %.2f, \"cpu\": %.2f, \"opencl_speed_vs_cpu\": %.3f}",
                        names[i], o[i], c[i], ratio));
            }
            System.out.println("{\n  \"opencl_device\": \"" + ocl.device().replace("\"", "'") + "\",\n  \"cpu_device\": \""
                    + cpu.device() + "\",\n  \"results\": {\n" + String.join(",\n", rows) + "\n  }\n}");
        }
    }

    /** The three GEMMs' GFLOPS, then the scan's forward and backward ms. */
    static double[] measure(Backend be, int reps) {
        double[] out = new double[5];
        for (int g = 0; g < GpuBench.GEMMS.length; g++) {
            out[g] = GpuBench.gemmGflops(be, GpuBench.GEMMS[g][0], GpuBench.GEMMS[g][1], GpuBench.GEMMS[g][2], reps);
        }
        double[] scan = GpuBench.scanMs(be, reps);
        out[3] = scan[0];
        out[4] = scan[1];
        return out;
    }
}
