package dev.sisma.engine.cuda.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.gpu.GpuBench;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;

/**
 * A plain benchmark (not a test) of the CUDA backend, the Java half of gpu-check.sh (whose PyTorch
 * peer, src/test/python/cuda_peer.py, times the same things on the same GPU in the same run):
 * <ul>
 * <li>GEMM GFLOPS at 4096^3 and at every shape in {@code --shapes FILE} (lines "m n k": the
 *     model's Linear shapes, as the peer records them), on the kernels (sk_gemm at fp32,
 *     sk_gemm_tf32 / sk_gemm_bf16 on tensor cores) and on cuBLAS at fp32, tf32 and bf16;</li>
 * <li>the selective scan forward and backward (GpuBench.scanMs);</li>
 * <li>sisma-L/2 at 256 tokens (default init weights): one denoising step at batch 1, 200 Euler
 *     steps for one image, the step at batch 16 (images per second over 200 steps), and the peak
 *     GPU memory of batch-1 sampling against the weights' size; at fp32 and tf32.</li>
 * </ul>
 * Prints one JSON object. Run: {@code java -cp <test classpath> dev.sisma.engine.cuda.internal.CudaBench
 * [--shapes FILE] [--reps N]} with {@code -Dsisma.cuda.cublasDir=DIR} when libcublas is elsewhere.
 */
public final class CudaBench {
    private CudaBench() {}

    public static void main(String[] args) throws Exception {
        int reps = 5;
        List<int[]> shapes = new ArrayList<>();
        shapes.add(new int[] {4096, 4096, 4096});
        for (int i = 0; i < args.length; i++) {
            switch (args[i]) {
                case "--reps" -> reps = Integer.parseInt(args[++i]);
                case "--shapes" -> {
                    for (String line : Files.readAllLines(Path.of(args[++i]))) {
                        String[] f = line.trim().split("\\s+");
                        if (f.length == 3) shapes.add(new int[] {Integer.parseInt(f[0]), Integer.parseInt(f[1]), Integer.parseInt(f[2])});
                    }
                }
                default -> throw new IllegalArgumentException("unknown argument " + args[i] + " (--shapes FILE, --reps N)");
            }
        }
        String cublasDir = System.getProperty("sisma.cuda.cublasDir", "");
        Map<String, Object> out = new LinkedHashMap<>();
        Map<String, Object> gemm = new LinkedHashMap<>();
        for (int[] s : shapes) gemm.put(key(s), new LinkedHashMap<String, Object>());
        try (CudaBackend kernel = CudaBackend.open(0, false, GemmPrecision.FP32, "none")) {
            out.put("device", kernel.device());
            double[] scan = GpuBench.scanMs(kernel, reps);
            out.put("scan_fwd_b1_l256_e2048_n16_ms", scan[0]);
            out.put("scan_bwd_b1_l256_e2048_n16_ms", scan[1]);
        }
        // the kernels (sk_gemm at fp32, the tensor-core kernels at tf32 and bf16), then cuBLAS
        for (String dir : new String[] {"none", cublasDir}) {
            for (GemmPrecision p : GemmPrecision.values()) {
                try (CudaBackend be = CudaBackend.open(0, false, p, dir)) {
                    if (!dir.equals("none") && !be.usesCublas()) {
                        out.put("cublas", be.device());
                        break;
                    }
                    String label = (dir.equals("none") ? "sk_gemm_" : "cublas_") + p.name().toLowerCase(Locale.ROOT);
                    for (int[] s : shapes) put(gemm, s, label, GpuBench.gemmGflops(be, s[0], s[1], s[2], reps));
                }
            }
        }
        out.put("gemm_gflops", gemm);
        for (GemmPrecision p : new GemmPrecision[] {GemmPrecision.FP32, GemmPrecision.TF32}) {
            try (CudaBackend be = CudaBackend.open(0, false, p, cublasDir)) {
                out.put("model_" + p.name().toLowerCase(Locale.ROOT), model(be, reps));
            }
        }
        System.out.println(json(out, ""));
    }

    private static String key(int[] s) {
        return s[0] + "x" + s[1] + "x" + s[2];
    }

    @SuppressWarnings("unchecked")
    private static void put(Map<String, Object> gemm, int[] s, String what, double gflops) {
        ((Map<String, Object>) gemm.get(key(s))).put(what, gflops);
    }

    /** sisma-L/2 at 256 tokens: step times, 200 Euler steps, batch 16, peak memory. */
    private static Map<String, Object> model(CudaBackend be, int reps) {
        Map<String, Object> r = new LinkedHashMap<>();
        SismaConfig cfg = SismaConfig.named("sisma-L/2");
        CuRuntime rt = be.runtime();
        long before = rt.usedBytes();
        try (Sisma m = new Sisma(cfg, be); NoGrad ng = NoGrad.enter()) {
            long weights = 0;
            for (Parameter p : m.namedParameters().values()) weights += p.value().size() * 4;
            r.put("config", cfg.name() + ", " + cfg.tokens() + " tokens");
            r.put("weights_mib", weights / 1048576.0);
            r.put("step_b1_ms", stepMs(m, be, 1, reps));
            // batch-1 sampling before any batch-16 work: the pool then holds no batch-16 activations
            rt.finish();
            rt.resetPeak();
            try (Scope s = Scope.open()) {
                Tensor x0 = Tensor.randn(be, 7, 0, 1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
                Tensor mask = mask(be, cfg, 1);
                long t0 = System.nanoTime();
                Tensor x = Samplers.byName("euler").orElseThrow().sample(m.velocityField(mask), x0, 200, 1.0, null);
                GpuBench.sync(be, x.buffer());
                r.put("euler200_b1_s", (System.nanoTime() - t0) / 1e9);
            }
            long peak = rt.peakUsedBytes() - before;
            r.put("sampling_peak_mib", peak / 1048576.0);
            r.put("sampling_peak_over_weights", (double) peak / weights);
            r.put("step_b16_ms", stepMs(m, be, 16, reps));
            r.put("images_per_s_b16_200_steps", 16 / (200 * (double) r.get("step_b16_ms") / 1e3));
        }
        return r;
    }

    /** A mask of class fractions at image size (random: the speed does not depend on it). */
    private static Tensor mask(CudaBackend be, SismaConfig cfg, int batch) {
        return Tensor.rand(be, 3, 0, batch, cfg.maskClasses(), cfg.imageSize(), cfg.imageSize());
    }

    private static double stepMs(Sisma m, CudaBackend be, int batch, int reps) {
        SismaConfig cfg = m.config();
        double best = Double.MAX_VALUE;
        try (Scope s = Scope.open()) {
            Tensor x = Tensor.randn(be, 5, 0, batch, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
            Tensor t = Tensor.full(be, 0.5f, batch);
            Tensor mask = mask(be, cfg, batch);
            for (int i = 0; i < reps + 2; i++) {
                try (Scope step = Scope.open()) {
                    long t0 = System.nanoTime();
                    Tensor v = m.forward(x, t, mask);
                    GpuBench.sync(be, v.buffer());
                    if (i >= 2) best = Math.min(best, (System.nanoTime() - t0) / 1e6);
                }
            }
        }
        return best;
    }

    @SuppressWarnings("unchecked")
    private static String json(Object v, String indent) {
        if (v instanceof Map<?, ?> map) {
            List<String> parts = new ArrayList<>();
            for (Map.Entry<?, ?> e : map.entrySet()) {
                parts.add(indent + "  \"" + e.getKey() + "\": " + json(e.getValue(), indent + "  "));
            }
            return "{\n" + String.join(",\n", parts) + "\n" + indent + "}";
        }
        if (v instanceof Double d) return String.format(Locale.ROOT, "%.4g", d);
        if (v instanceof Number n) return n.toString();
        return "\"" + String.valueOf(v).replace("\\", "\\\\").replace("\"", "'") + "\"";
    }
}
