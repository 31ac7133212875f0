package dev.sisma.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.data.mask.MaskFiles;

class ClusterOptionsTest {
    private static ClusterOptions parse(String... args) {
        return ClusterOptions.from(Args.parse(List.of(args), ClusterOptions.OPTIONS, Set.of()));
    }

    /** The console of this JVM, working in {@code work}. */
    private static dev.sisma.api.cli.CommandContext context(Path work) {
        return new dev.sisma.api.cli.CommandContext() {
            public java.io.PrintStream out() {
                return System.out;
            }

            public java.io.PrintStream err() {
                return System.err;
            }

            public java.io.InputStream in() {
                return System.in;
            }

            public Path workingDirectory() {
                return work;
            }
        };
    }

    @Test
    void loopbackAndOneBackupByDefault() {
        ClusterOptions o = parse("--cluster", "studio");
        assertEquals("studio", o.name());
        assertEquals(List.of("127.0.0.1:5701"), o.members());
        assertEquals("127.0.0.1", o.bind());
        assertEquals(5701, o.port());
        assertEquals(1, o.backups());
        assertEquals(30, o.leaseSeconds());
    }

    @Test
    void membersAreHostsOrHostPorts() {
        assertEquals(List.of("10.0.0.11", "10.0.0.12:5702", "[fd00::1]:5701"),
                parse("--cluster", "a", "--members", "10.0.0.11, 10.0.0.12:5702,[fd00::1]:5701").members());
    }

    @Test
    void badValuesAreOneLineUsageErrors() {
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a b")).getMessage().startsWith("--cluster:"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a", "--members", "x:y:z")).getMessage()
                .contains("'x:y:z' is not host or host:port"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a", "--members", " , ")).getMessage()
                .contains("no address"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a", "--port", "70000")).getMessage().startsWith("--port"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a", "--lease", "1")).getMessage().startsWith("--lease"));
        assertTrue(assertThrows(UsageException.class, () -> parse("--cluster", "a", "--backups", "7")).getMessage().startsWith("--backups"));
    }

    @Test
    void aBatchNamesItsOutputsBySeedAndItsModelByKind(@TempDir Path work) {
        Path out = Path.of("/out");
        Map<String, String> o = Codec.options("samples=3\nseed=10\n");
        assertEquals(List.of(out.resolve("face-s10.png"), out.resolve("face-s11.png"), out.resolve("face-s12.png")),
                Batch.outputs(out, "face", o));
        assertEquals("face-1", MaskFiles.outputName(Path.of("/m/face-1.png")));
        dev.sisma.api.cli.CommandContext ctx = context(work);
        Map<String, String> bundled = Batch.jobOptions(Args.parse(List.of("--model", "demo-256"), Batch.OPTIONS, Set.of()), ctx);
        assertEquals("demo-256", bundled.get("model"));
        assertEquals("0", bundled.get("seed"), "a fixed default seed, so that a rerun finds the first run's outputs");
        Map<String, String> file = Batch.jobOptions(Args.parse(List.of("--model", "runs/a.safetensors"), Batch.OPTIONS, Set.of()), ctx);
        assertEquals(work.resolve("runs/a.safetensors").toString(), file.get("checkpoint"), "a checkpoint resolved against the working folder");
        assertThrows(UsageException.class, () -> Batch.jobOptions(Args.parse(List.of("--steps", "0"), Batch.OPTIONS, Set.of()), ctx));
    }

    @Test
    void weightsTravelWithTheBatchAndComeBeforeTheWorkers(@TempDir Path work) throws Exception {
        dev.sisma.api.cli.CommandContext ctx = context(work);
        Map<String, String> bf16 = Batch.jobOptions(Args.parse(List.of("--weights", "BF16"), Batch.OPTIONS, Set.of()), ctx);
        assertEquals("bf16", bf16.get("weights"));
        Map<String, String> sent = Codec.options(Codec.options(bf16));
        assertEquals(WeightFormat.BF16, Worker.weights(sent, WeightFormat.F16), "the batch's format wins over the worker's");
        Map<String, String> none = Codec.options(Codec.options(Batch.jobOptions(Args.parse(List.of(), Batch.OPTIONS, Set.of()), ctx)));
        assertFalse(none.containsKey("weights"));
        assertEquals(WeightFormat.F16, Worker.weights(none, WeightFormat.F16), "no batch format: the worker's --weights");
        assertNull(Worker.weights(none, null), "neither: the generator's default");
        UsageException e = assertThrows(UsageException.class,
                () -> Batch.jobOptions(Args.parse(List.of("--weights", "fp8"), Batch.OPTIONS, Set.of()), ctx));
        assertEquals("--weights: unknown weight format 'fp8'; choices: f32, bf16, f16", e.getMessage());
        assertTrue(Batch.USAGE.contains("--weights F"), Batch.USAGE);
        // the worker refuses a bad value before it joins a cluster
        WorkerCommand worker = new WorkerCommand(null);
        e = assertThrows(UsageException.class, () -> worker.run(List.of("--cluster", "a", "--weights", "half"), ctx));
        assertEquals("--weights: unknown weight format 'half'; choices: f32, bf16, f16", e.getMessage());
        assertTrue(worker.usage().contains("--weights F"), worker.usage());
    }
}
