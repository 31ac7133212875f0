package dev.sisma.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
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
import dev.sisma.data.mask.MaskFiles;

class ClusterOptionsTest {
    private static ClusterOptions parse(String... args) {
        return ClusterOptions.from(Args.parse(List.of(args), ClusterOptions.OPTIONS, Set.of()));
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
        dev.sisma.api.cli.CommandContext ctx = new dev.sisma.api.cli.CommandContext() {
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
        Map<String, String> bundled = Batch.jobOptions(Args.parse(List.of("--model", "demo-256"), Batch.OPTIONS, Set.of()), ctx);
        assertEquals("demo-256", bundled.get("model"));
        assertEquals("0", bundled.get("seed"), "a fixed default seed, so that a rerun finds the first run's outputs");
        Map<String, String> file = Batch.jobOptions(Args.parse(List.of("--model", "runs/a.safetensors"), Batch.OPTIONS, Set.of()), ctx);
        assertEquals(work.resolve("runs/a.safetensors").toString(), file.get("checkpoint"), "a checkpoint resolved against the working folder");
        assertThrows(UsageException.class, () -> Batch.jobOptions(Args.parse(List.of("--steps", "0"), Batch.OPTIONS, Set.of()), ctx));
    }
}
