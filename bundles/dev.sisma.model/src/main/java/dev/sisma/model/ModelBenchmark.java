package dev.sisma.model;

import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Proxy;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sisma.api.generate.WeightFormat;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;

/**
 * Times one denoising step (forward, no tape) and one training step (forward + backward of the
 * flow-matching loss) of a config at a given token count, and splits the time between GEMM, the
 * selective scan (forward and backward) and everything else by timing every backend call (the
 * engine is synchronous from the caller's view, so wall time per call is the op's time; on a
 * GPU backend the split is only indicative). The {@code bench} command calls {@link #run}.
 */
public final class ModelBenchmark {
    private ModelBenchmark() {
    }

    /**
     * One measurement; step times in seconds (median of the timed repetitions). ops: every backend
     * op's time per step (see {@link OpTime}), largest first.
     */
    public record Result(String config, String blockType, int tokens, long parameters, int batch,
            double denoiseSeconds, double trainSeconds, double gemmShare, double scanShare, double otherShare, List<OpTime> ops) {
        /** Without the per-op times (the 1.0 form). */
        public Result(String config, String blockType, int tokens, long parameters, int batch,
                double denoiseSeconds, double trainSeconds, double gemmShare, double scanShare, double otherShare) {
            this(config, blockType, tokens, parameters, batch, denoiseSeconds, trainSeconds, gemmShare, scanShare, otherShare, List.of());
        }

        /**
         * The {@code top} largest ops under a heading line, one line each: seconds per step (per
         * denoising step plus training step when the training step ran; the mean over the timed
         * repetitions, so the column adds up to at most the steps' time) and share of the backend time.
         */
        public String opsTable(int top) {
            if (top <= 0 || ops.isEmpty()) {
                return "";
            }
            StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "    %-34s %8s  %6s%n",
                    Double.isNaN(trainSeconds) ? "backend op (per denoising step)" : "backend op (per denoise + train step)",
                    "seconds", "share"));
            for (OpTime o : ops.subList(0, Math.min(top, ops.size())))
                sb.append(String.format(Locale.ROOT, "    %-34s %8.4f s %5.1f%%%n", o.op(), o.seconds(), 100 * o.share()));
            return sb.toString();
        }

        public String line() {
            String train = Double.isNaN(trainSeconds) ? "train not run" : String.format(Locale.ROOT, "train %8.3f s", trainSeconds);
            return String.format(Locale.ROOT, "%-12s %-9s %5d tokens %7.1fM params  denoise %8.3f s  %s  "
                    + "gemm %4.1f%%  scan %4.1f%%  other %4.1f%%", config, blockType, tokens, parameters / 1e6,
                    denoiseSeconds, train, 100 * gemmShare, 100 * scanShare, 100 * otherShare);
        }
    }

    /** The config with its input grid resized so it has {@code tokens} tokens (a square number). */
    public static SismaConfig atTokens(SismaConfig cfg, int tokens) {
        int g = (int) Math.round(Math.sqrt(tokens));
        if (g * g != tokens) {
            throw new IllegalArgumentException("tokens must be a square number, got " + tokens);
        }
        int input = g * cfg.patch();
        int factor = cfg.imageSize() / cfg.inputSize();
        return cfg.with("input_size", input, "image_size", input * factor);
    }

    /**
     * Measures {@code cfg} at {@code tokens} tokens: {@code warmup} untimed then {@code reps} timed
     * repetitions of each step, batch {@code batch}.
     */
    public static Result run(SismaConfig config, int tokens, int batch, int warmup, int reps, Backend backend) {
        return run(config, tokens, batch, warmup, reps, backend, true);
    }

    /**
     * As {@link #run(SismaConfig, int, int, int, int, Backend)}; without {@code train} only the
     * denoising step runs (its tape-free memory is a fraction of the training step's: sisma-L/2 at
     * 4096 tokens denoises on a 24 GB machine but does not train) and trainSeconds is NaN.
     */
    public static Result run(SismaConfig config, int tokens, int batch, int warmup, int reps, Backend backend, boolean train) {
        return run(config, tokens, batch, warmup, reps, backend, train, null, 0);
    }

    /**
     * Untimed steps before the timed ones, by default: at least one and at least this many seconds
     * of them. A JIT compiles the backend's kernels while they run (the CPU backend's small ops are
     * called a few dozen times a step): after one untimed step sisma-S/2's step took 0.33 s, after
     * 5 s of steps 0.25 s. The peer script gives its peers the same rule.
     */
    public static final double WARMUP_SECONDS = 5;

    /**
     * As {@link #run(SismaConfig, int, int, int, int, Backend, boolean)} with the Linear weights in
     * {@code weights} (BF16/F16: the half-size weights' step time; null: {@link Checkpoints#defaultWeightFormat()}),
     * the untimed steps going on past {@code warmup} until they took {@code warmupSeconds} in all.
     */
    public static Result run(SismaConfig config, int tokens, int batch, int warmup, int reps, Backend backend, boolean train,
            WeightFormat weights, double warmupSeconds) {
        SismaConfig cfg = atTokens(config, tokens);
        Timing timing = new Timing();
        Backend timed = timing.wrap(backend);
        FlowMatching fm = new FlowMatching(cfg);
        try (Sisma model = new Sisma(cfg, timed); Scope outer = Scope.open()) {
            Checkpoints.applyWeightFormat(model, weights);
            int s = cfg.inputSize(), m = cfg.imageSize();
            Tensor x = Tensor.randn(timed, 1, 0, batch, cfg.inChannels(), s, s);
            Tensor mask = Tensor.rand(timed, 2, 0, batch, cfg.maskClasses(), m, m);
            Tensor t = Tensor.full(timed, 0.5f, batch);
            double[] denoise = new double[reps], trainTimes = new double[reps];
            long warmStart = System.nanoTime();
            // r: the timed repetition this step is, -1 while warming up
            for (int i = 0, r = warmup > 0 ? -1 : 0; r < reps; i++) {
                long t0 = System.nanoTime();
                try (Scope sc = Scope.open(); NoGrad ng = NoGrad.enter()) {
                    model.forward(x, t, mask);
                }
                long t1 = System.nanoTime();
                if (train) {
                    try (Scope sc = Scope.open()) {
                        fm.loss(model, x, mask, 0, i).backward();
                    }
                    model.zeroGrad();
                }
                long t2 = System.nanoTime();
                if (r >= 0) {
                    denoise[r] = (t1 - t0) / 1e9;
                    trainTimes[r] = train ? (t2 - t1) / 1e9 : Double.NaN;
                    r++;
                } else if (i + 1 >= warmup && (t2 - warmStart) / 1e9 >= warmupSeconds) {
                    r = 0;
                    timing.reset(); // the shares cover the timed repetitions only
                }
            }
            double total = timing.gemm + timing.scan + timing.other;
            return new Result(cfg.name(), cfg.blockType().name().toLowerCase(Locale.ROOT), tokens, model.parameterCount(), batch,
                    median(denoise), train ? median(trainTimes) : Double.NaN, timing.gemm / total, timing.scan / total, timing.other / total,
                    timing.ops(reps));
        }
    }

    /** The table: S/2, B/2, L/2 and their attention baselines at 256, 1024 and 4096 tokens. */
    public static List<Result> runAll(List<String> configs, int[] tokenCounts, int reps, Backend backend,
            java.util.function.Consumer<Result> each) {
        return runAll(configs, tokenCounts, reps, true, backend, each);
    }

    /** {@link #runAll(List, int[], int, Backend, java.util.function.Consumer)}, the training steps only when {@code train}. */
    public static List<Result> runAll(List<String> configs, int[] tokenCounts, int reps, boolean train, Backend backend,
            java.util.function.Consumer<Result> each) {
        return runAll(configs, List.of("sisma", "attention"), tokenCounts, reps, train, backend, each);
    }

    /** As above for the given block types only ("sisma", "attention"). */
    public static List<Result> runAll(List<String> configs, List<String> blockTypes, int[] tokenCounts, int reps, boolean train,
            Backend backend, java.util.function.Consumer<Result> each) {
        return runAll(configs, blockTypes, tokenCounts, reps, train, null, WARMUP_SECONDS, backend, each);
    }

    /**
     * As above with the Linear weights in {@code weights} (null: {@link Checkpoints#defaultWeightFormat()}),
     * each case warmed up for {@code warmupSeconds} (at least one untimed step; see {@link #WARMUP_SECONDS}).
     */
    public static List<Result> runAll(List<String> configs, List<String> blockTypes, int[] tokenCounts, int reps, boolean train,
            WeightFormat weights, double warmupSeconds, Backend backend, java.util.function.Consumer<Result> each) {
        List<Result> out = new ArrayList<>();
        for (String name : configs) {
            for (String type : blockTypes) {
                for (int tokens : tokenCounts) {
                    Result r = run(SismaConfig.named(name).with("block_type", type), tokens, 1, 1, reps, backend, train, weights, warmupSeconds);
                    out.add(r);
                    if (each != null) {
                        each.accept(r);
                    }
                }
            }
        }
        return out;
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        java.util.Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    /**
     * A backend op's wall time per step (the mean over the timed repetitions of one denoising step,
     * plus one training step when it ran) and its share of all backend time. op is the Backend
     * method, with the operation for unary, binary and reduce ("unary GELU_TANH") and the shape for
     * gemm ("gemm 256x4096x1024").
     */
    public record OpTime(String op, double seconds, double share) {}

    /** Accumulates wall time per op family and per op by wrapping every backend call (made from one thread). */
    private static final class Timing {
        double gemm, scan, other;
        final Map<String, Double> perOp = new HashMap<>();

        void reset() {
            gemm = scan = other = 0;
            perOp.clear();
        }

        /** Per op: the time summed over {@code reps} repetitions, divided by {@code reps}. */
        List<OpTime> ops(int reps) {
            double total = gemm + scan + other;
            return perOp.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed())
                    .map(e -> new OpTime(e.getKey(), e.getValue() / reps, e.getValue() / total)).toList();
        }

        /**
         * The op's name; with the operation for unary, binary and reduce; for gemm with M x N x K,
         * then " xB" for a batch of B, then the operands' form unless it is a Linear's A B^T (AB, AtB, AtBt).
         */
        private static String key(String method, Object[] args) {
            if (args != null && args.length > 0 && args[0] instanceof Enum<?> op) {
                return method + " " + op.name();
            }
            if (method.equals("gemm") && args != null && args.length > 5) {
                int batch = (Integer) args[2];
                boolean ta = (Boolean) args[0], tb = (Boolean) args[1];
                return "gemm " + args[3] + "x" + args[4] + "x" + args[5] + (batch > 1 ? " x" + batch : "")
                        + (!ta && tb ? "" : " A" + (ta ? "t" : "") + "B" + (tb ? "t" : ""));
            }
            return method;
        }

        Backend wrap(Backend b) {
            return (Backend) Proxy.newProxyInstance(Backend.class.getClassLoader(), new Class<?>[] {Backend.class},
                    (proxy, method, args) -> {
                        long t0 = System.nanoTime();
                        try {
                            return method.invoke(b, args);
                        } catch (InvocationTargetException e) {
                            throw e.getCause();
                        } finally {
                            double dt = (System.nanoTime() - t0) / 1e9;
                            String n = method.getName();
                            perOp.merge(key(n, args), dt, Double::sum);
                            if (n.equals("gemm")) {
                                gemm += dt;
                            } else if (n.startsWith("selectiveScan")) {
                                scan += dt;
                            } else {
                                other += dt;
                            }
                        }
                    });
        }
    }
}
