package dev.sisma.cli;

import java.util.Arrays;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.engine.Backends;
import dev.sisma.engine.bench.BackendThreads;
import dev.sisma.engine.bench.EngineBench;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.ModelBenchmark;

/** {@code sisma bench}: the engine's and the model's speed figures on a chosen backend. */
@Component(service = Command.class)
public final class BenchCommand implements Command {
    private final Backends backends;
    /** Backends on host threads that can be made at 1 thread and at their configured count (the CPU backend). */
    private final List<BackendThreads> threads = new CopyOnWriteArrayList<>();

    @Activate
    public BenchCommand(@Reference Backends backends) {
        this.backends = backends;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addThreads(BackendThreads t) {
        threads.add(t);
    }

    void removeThreads(BackendThreads t) {
        threads.remove(t);
    }

    /** The other commands: {@code bench serve} is the HTTP server's load test ({@code serve --bench}). */
    private final List<Command> commands = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addCommand(Command c) {
        commands.add(c);
    }

    void removeCommand(Command c) {
        commands.remove(c);
    }

    @Override
    public String name() {
        return "bench";
    }

    @Override
    public String summary() {
        return "measure the engine (GEMM, scan) or the model (denoise and training steps)";
    }

    @Override
    public String usage() {
        return """
                usage: sisma bench [engine|model|serve] [--backend NAME] [--seconds S] [--configs LIST] [--tokens LIST] [--reps N] [--warmup-seconds S] [--no-train] [--ops N] [--blocks LIST] [--threads N] [--weights F]
                  engine (default): JSON with GEMM GFLOPS at 1024x1024x1024, 256x1024x4096, 256x4096x1024
                                    and the selective scan forward/backward time at B 1, L 256, E 2048, N 16;
                                    a backend on host threads (cpu) at 1 thread and at its configured threads
                  model:            one denoising step (batch 1) and one training step per config, SISMA and
                                    its attention baseline, with the share of time in GEMM, scan and the rest
                  --backend NAME    compute backend (see sisma info); default: the one in use
                  --seconds S       timing per engine case (default 1)
                  --configs LIST    model configs, comma-separated (default sisma-S/2,sisma-B/2,sisma-L/2)
                  --tokens LIST     token counts, comma-separated squares (default 256,1024,4096)
                  --reps N          timed repetitions per model case (default 3)
                  --warmup-seconds S model: untimed steps first, at least one and S seconds of them (default 5;
                                    the JIT compiles the kernels meanwhile)
                  --no-train        model: the denoising step only (the training step needs far more memory)
                  --ops N           model: also the N backend ops that took the most time, with their shares
                  --blocks LIST     model: sisma and/or attention (default both)
                  --threads N       model: a backend on host threads (cpu) made with N threads for the run
                  --weights F       model: Linear weights as f32, bf16 or f16 (half the memory on the cpu backend,
                                    widened in its GEMM); default: the system property sisma.weights, else f32
                  serve [OPTIONS]:  the HTTP server under load, the same as sisma serve --bench [OPTIONS]
                  Figures and the peers (OpenBLAS, PyTorch) are recorded in docs/benchmarks.md.""";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        if (!args.isEmpty() && args.get(0).equals("serve")) {
            Command serve = commands.stream().filter(c -> c.name().equals("serve")).findFirst().orElseThrow(() -> new UsageException(
                    "bench serve needs the HTTP server bundle (dev.sisma.server), which is not installed"));
            List<String> rest = new java.util.ArrayList<>(List.of("--bench"));
            rest.addAll(args.subList(1, args.size()));
            return serve.run(rest, ctx);
        }
        Args a = Args.parse(args, Set.of("--backend", "--seconds", "--configs", "--tokens", "--reps", "--warmup-seconds", "--ops", "--blocks", "--threads",
                WeightFormat.OPTION), Set.of("--no-train"));
        List<String> what = a.positional();
        String mode = what.isEmpty() ? "engine" : what.get(0);
        if (what.size() > 1 || !(mode.equals("engine") || mode.equals("model"))) {
            throw new UsageException("expected 'engine', 'model' or 'serve', got " + String.join(" ", what));
        }
        WeightFormat weights = WeightFormat.option(a.get(WeightFormat.OPTION, null));
        if (weights != null && mode.equals("engine")) {
            throw new UsageException(WeightFormat.OPTION + " is an option of bench model (the engine cases have no model weights)");
        }
        Backend backend = backend(a.get("--backend", null));
        if (mode.equals("engine")) {
            double seconds = a.getDouble("--seconds", 1.0);
            String json = threads.stream().filter(t -> t.name().equals(backend.name())).findFirst()
                    .map(t -> EngineBench.run(t, seconds))
                    .orElseGet(() -> EngineBench.run(backend, seconds));
            ctx.out().println(json);
            return 0;
        }
        List<String> configs = List.of(a.get("--configs", "sisma-S/2,sisma-B/2,sisma-L/2").split(","));
        int[] tokens;
        try {
            tokens = Arrays.stream(a.get("--tokens", "256,1024,4096").split(",")).mapToInt(s -> Integer.parseInt(s.trim())).toArray();
        } catch (NumberFormatException e) {
            throw new UsageException("--tokens needs comma-separated integers, got '" + a.get("--tokens", "") + "'");
        }
        int ops = a.getInt("--ops", 0);
        if (ops < 0) {
            throw new UsageException("--ops needs a count of 0 or more, got " + ops);
        }
        List<String> blocks = List.of(a.get("--blocks", "sisma,attention").split(","));
        for (String b : blocks) {
            if (!b.equals("sisma") && !b.equals("attention")) {
                throw new UsageException("--blocks takes sisma and/or attention, got '" + b + "'");
            }
        }
        int reps = a.getInt("--reps", 3);
        double warmupSeconds = a.getDouble("--warmup-seconds", ModelBenchmark.WARMUP_SECONDS);
        if (!(warmupSeconds >= 0)) {
            throw new UsageException("--warmup-seconds needs 0 or more seconds, got " + a.get("--warmup-seconds", ""));
        }
        java.util.function.Function<Backend, Integer> bench = be -> {
            WeightFormat w = weights != null ? weights : Checkpoints.defaultWeightFormat();
            ctx.out().println("model benchmark on " + be.name() + " (" + be.device() + "), " + w.id() + " Linear weights");
            ModelBenchmark.runAll(configs, blocks, tokens, reps, !a.has("--no-train"), w, warmupSeconds, be, r -> {
                ctx.out().println(r.line());
                ctx.out().print(r.opsTable(ops));
            });
            return 0;
        };
        if (!a.has("--threads")) {
            return bench.apply(backend);
        }
        int n = a.getInt("--threads", 0);
        BackendThreads bt = threads.stream().filter(t -> t.name().equals(backend.name())).findFirst()
                .orElseThrow(() -> new UsageException("--threads: backend '" + backend.name() + "' has no thread count"));
        try {
            return bt.withThreads(n, bench);
        } catch (IllegalArgumentException e) {
            throw new UsageException("--threads: " + e.getMessage());
        }
    }

    private Backend backend(String name) {
        if (name == null) {
            return backends.current().orElseThrow(() -> new IllegalStateException("no compute backend is registered"));
        }
        return backends.byName(name).orElseThrow(() -> new UsageException("compute backend '" + name
                + "' is not registered; available: " + backends.all().stream().map(Backend::name).toList()));
    }
}
