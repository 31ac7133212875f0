package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Function;

import org.junit.jupiter.api.Test;

import dev.sisma.api.cli.UsageException;
import dev.sisma.engine.Backends;
import dev.sisma.engine.bench.BackendThreads;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;

class BenchCommandTest {
    final Backends backends = mock(Backends.class);
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final BenchCommand bench = new BenchCommand(backends);

    /** Runs bench; a model run without --warmup-seconds gets 0 (one untimed step: the demo model needs no JIT warm-up to be checked). */
    int run(String... args) {
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        List<String> list = new java.util.ArrayList<>(List.of(args));
        if (!list.isEmpty() && list.get(0).equals("model") && !list.contains("--warmup-seconds")) {
            list.addAll(List.of("--warmup-seconds", "0"));
        }
        try {
            return bench.run(list, SismaCli.context(ps, ps, new ByteArrayInputStream(new byte[0])));
        } catch (RuntimeException e) {
            throw e;
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    @Test
    void serveIsTheHttpServersLoadTest() {
        UsageException missing = assertThrows(UsageException.class, () -> run("serve"));
        assertTrue(missing.getMessage().contains("dev.sisma.server"), missing.getMessage());
        List<List<String>> calls = new ArrayList<>();
        bench.addCommand(new dev.sisma.api.cli.Command() {
            @Override
            public String name() {
                return "serve";
            }

            @Override
            public String summary() {
                return "";
            }

            @Override
            public String usage() {
                return "";
            }

            @Override
            public int run(List<String> args, dev.sisma.api.cli.CommandContext context) {
                calls.add(args);
                return 7;
            }
        });
        assertEquals(7, run("serve", "--clients", "2", "--jobs", "3"));
        assertEquals(List.of(List.of("--bench", "--clients", "2", "--jobs", "3")), calls);
    }

    @Test
    void engineRunsABackendOnHostThreadsAtOneThreadAndAtItsConfiguredCount() {
        List<Integer> made = new ArrayList<>();
        bench.addThreads(cpuThreads(made, threads -> {
            Backend be = mock(Backend.class);   // does nothing, at once: what is measured is not the point here
            when(be.name()).thenReturn("cpu");
            when(be.device()).thenReturn(threads + " threads");
            return be;
        }));
        Backend inUse = mock(Backend.class);
        when(inUse.name()).thenReturn("cpu");
        when(backends.current()).thenReturn(Optional.of(inUse));
        assertEquals(0, run("engine", "--seconds", "0"));
        String s = out.toString(StandardCharsets.UTF_8);
        assertEquals(List.of(1, 2), made);
        assertTrue(s.contains("\"engine\": \"cpu\""), s);
        for (int t : new int[] {1, 2}) {
            assertTrue(s.contains("{\"op\": \"gemm\", \"m\": 1024, \"n\": 1024, \"k\": 1024, \"threads\": " + t + ", "), s);
            assertTrue(s.contains("{\"op\": \"scan\", \"b\": 1, \"l\": 256, \"e\": 2048, \"n\": 16, \"threads\": " + t + ", "), s);
        }
    }

    @Test
    void anUnknownBackendListsTheRegisteredOnes() {
        Backend cpu = mock(Backend.class);
        when(cpu.name()).thenReturn("cpu");
        when(backends.byName("cuda")).thenReturn(Optional.empty());
        when(backends.all()).thenReturn(List.of(cpu));
        UsageException e = assertThrows(UsageException.class, () -> run("--backend", "cuda"));
        assertEquals("compute backend 'cuda' is not registered; available: [cpu]", e.getMessage());
    }

    @Test
    void onlyEngineOrModelCanBeMeasured() {
        UsageException e = assertThrows(UsageException.class, () -> run("vae"));
        assertTrue(e.getMessage().contains("expected 'engine', 'model' or 'serve'"), e.getMessage());
    }

    @Test
    void measuresTheModelOnTheBackendInUse() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            when(backends.current()).thenReturn(Optional.of(cpu));
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1"));
            String s = out.toString(StandardCharsets.UTF_8);
            assertTrue(s.matches("(?s).*demo +sisma +16 tokens.*denoise.*train.*gemm.*scan.*other.*"), s);
            assertTrue(s.matches("(?s).*demo +attention +16 tokens.*"), s);
        }
    }

    @Test
    void noTrainMeasuresTheDenoisingStepOnly() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            when(backends.current()).thenReturn(Optional.of(cpu));
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1", "--no-train"));
            String s = out.toString(StandardCharsets.UTF_8);
            assertTrue(s.matches("(?s).*demo +sisma +16 tokens.*denoise +[0-9.]+ s +train not run.*"), s);
        }
    }

    @Test
    void opsListsTheBackendOpsThatTookTheMostTime() {
        try (CpuBackend cpu = new CpuBackend(1)) {
            when(backends.current()).thenReturn(Optional.of(cpu));
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1", "--no-train", "--ops", "4"));
            String s = out.toString(StandardCharsets.UTF_8);
            // each model line followed by a heading and its top ops per step, e.g. "    gemm    0.0120 s  41.0%"
            assertTrue(s.matches("(?s).*demo +sisma +16 tokens[^\\n]*\\n +backend op \\(per denoising step\\) +seconds +share\\n"
                    + "( +[a-zA-Z][a-zA-Z0-9_ ]* +[0-9.]+ s +[0-9.]+%\\n){4}.*"), s);
            assertTrue(s.contains(" gemm "), s);
        }
        UsageException e = assertThrows(UsageException.class, () -> run("model", "--ops", "-1"));
        assertTrue(e.getMessage().contains("--ops"), e.getMessage());
        e = assertThrows(UsageException.class, () -> run("model", "--warmup-seconds", "-1"));
        assertTrue(e.getMessage().contains("--warmup-seconds"), e.getMessage());
    }
    @Test
    void modelBlocksAndThreadsPickTheCasesAndTheBackendsThreadCount() {
        List<Integer> made = new ArrayList<>();
        List<CpuBackend> cpus = new ArrayList<>();
        bench.addThreads(cpuThreads(made, threads -> {
            CpuBackend be = new CpuBackend(threads);
            cpus.add(be);
            return be;
        }));
        try (CpuBackend cpu = new CpuBackend(2)) {
            when(backends.current()).thenReturn(Optional.of(cpu));
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1", "--no-train", "--blocks", "sisma", "--threads", "1"));
            String s = out.toString(StandardCharsets.UTF_8);
            assertEquals(List.of(1), made);
            assertTrue(s.contains("model benchmark on cpu (1 thread, "), s);
            assertTrue(s.matches("(?s).*demo +sisma +16 tokens.*"), s);
            assertTrue(!s.contains("attention"), s);
            UsageException e = assertThrows(UsageException.class, () -> run("model", "--blocks", "mlp"));
            assertTrue(e.getMessage().contains("--blocks"), e.getMessage());
            e = assertThrows(UsageException.class, () -> run("model", "--configs", "demo", "--tokens", "16", "--threads", "0"));
            assertTrue(e.getMessage().startsWith("--threads: "), e.getMessage());
        } finally {
            cpus.forEach(CpuBackend::close);
        }
    }

    @Test
    void modelWeightsRunsTheModelWithItsLinearWeightsInThatFormat() {
        List<dev.sisma.engine.io.DType> uploads = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend(1)) {
            when(backends.current()).thenReturn(Optional.of(HalfUploads.recording(cpu, uploads)));
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1", "--no-train", "--blocks", "sisma", "--weights", "bf16"));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("), bf16 Linear weights"), out.toString(StandardCharsets.UTF_8));
            assertTrue(uploads.size() > 10 && uploads.stream().allMatch(dev.sisma.engine.io.DType.BF16::equals), uploads.toString());
            uploads.clear();
            out.reset();
            assertEquals(0, run("model", "--configs", "demo", "--tokens", "16", "--reps", "1", "--no-train", "--blocks", "sisma", "--weights", "f32"));
            assertTrue(out.toString(StandardCharsets.UTF_8).contains("), f32 Linear weights"), out.toString(StandardCharsets.UTF_8));
            assertEquals(List.of(), uploads);
        }
        UsageException e = assertThrows(UsageException.class, () -> run("model", "--weights", "int8"));
        assertEquals("--weights: unknown weight format 'int8'; choices: f32, bf16, f16", e.getMessage());
        e = assertThrows(UsageException.class, () -> run("engine", "--weights", "bf16"));
        assertTrue(e.getMessage().startsWith("--weights is an option of bench model"), e.getMessage());
        assertTrue(bench.usage().contains("--weights F"), bench.usage());
    }

    /** The CPU backend's BackendThreads (configured with 2 threads) making its backends with {@code make}, recording each count asked for. */
    private static BackendThreads cpuThreads(List<Integer> made, java.util.function.IntFunction<Backend> make) {
        return new BackendThreads() {
            @Override
            public String name() {
                return "cpu";
            }

            @Override
            public int threads() {
                return 2;
            }

            @Override
            public <T> T withThreads(int threads, Function<Backend, T> work) {
                made.add(threads);
                return work.apply(make.apply(threads));
            }
        };
    }
}
