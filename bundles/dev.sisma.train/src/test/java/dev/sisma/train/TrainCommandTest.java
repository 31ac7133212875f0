package dev.sisma.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.data.dataset.Datasets;
import dev.sisma.data.internal.SyntheticProvider;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.train.internal.TrainCommand;
import dev.sisma.train.internal.Trainer;

class TrainCommandTest {
    @TempDir
    Path tmp;

    final ByteArrayOutputStream out = new ByteArrayOutputStream();

    final Backends backends = new Backends() {
        @Override public List<Backend> all() { return List.of(SismaTrainingTest.CPU); }
        @Override public Optional<Backend> current() { return Optional.of(SismaTrainingTest.CPU); }
        @Override public Optional<Backend> byName(String name) { return name.equals("cpu") ? current() : Optional.empty(); }
        @Override public String preferred() { return null; }
    };

    final CommandContext ctx = new CommandContext() {
        final PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        @Override public PrintStream out() { return ps; }
        @Override public PrintStream err() { return ps; }
        @Override public InputStream in() { return InputStream.nullInputStream(); }
        @Override public Path workingDirectory() { return tmp; }
    };

    final TrainCommand cmd = new TrainCommand(backends, Datasets.of(List.of(new SyntheticProvider())));

    private int run(String... args) throws Exception {
        return cmd.run(List.of(args), ctx);
    }

    @Test
    void trainsResumesAndRefusesChangedSettings() throws Exception {
        SismaTrainingTest.tiny().write(tmp.resolve("tiny.json"));
        assertEquals(0, run("--config", "tiny.json", "--data", "synthetic", "--out", "run", "--steps", "2", "--batch", "2",
                "--checkpoint-every", "1", "--sample-every", "0", "--log-every", "1", "--backend", "cpu", "--data-count", "50"));
        Path run = tmp.resolve("run");
        assertTrue(Files.exists(run.resolve(Trainer.CHECKPOINT)));
        assertTrue(Files.exists(run.resolve(Trainer.EMA_WEIGHTS)));
        assertTrue(Files.exists(run.resolve("samples").resolve("step-0000002.png")));
        assertEquals(0, run("--resume", "--out", "run", "--steps", "3"));
        assertEquals(3, Files.readAllLines(run.resolve(Trainer.METRICS)).size());
        String log = out.toString(StandardCharsets.UTF_8);
        assertTrue(log.contains("steps 3..3"), log);
        assertThrows(UsageException.class, () -> run("--resume", "--out", "run", "--steps", "4", "--lr", "1"));
        assertEquals(0, run("--resume", "--out", "run", "--steps", "3"));   // nothing to do
        InputException e = assertThrows(InputException.class,
                () -> run("--config", "tiny.json", "--data", "synthetic", "--out", "run", "--steps", "2"));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
    }

    @Test
    void badConfigValuesNameTheFileAndField() throws Exception {
        Files.writeString(tmp.resolve("bad.json"), "{\"name\": \"bad\", \"depth\": -2}");
        InputException e = assertThrows(InputException.class,
                () -> run("--config", "bad.json", "--data", "synthetic", "--out", "r"));
        assertTrue(e.getMessage().contains("bad.json") && e.getMessage().contains("depth"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
        e = assertThrows(InputException.class, () -> run("--config", "sisma-X/2", "--data", "synthetic", "--out", "r"));
        assertTrue(e.getMessage().contains("sisma-X/2"), e.getMessage());
        e = assertThrows(InputException.class, () -> run("--config", "sisma-S/2", "--data", "synthetic", "--out", "r", "--steps", "1"));
        assertTrue(e.getMessage().contains("latent"), e.getMessage());
        assertThrows(UsageException.class, () -> run("--config", "demo", "--data", "synthetic", "--out", "r", "--lr", "-1"));
        assertThrows(UsageException.class, () -> run("--config", "demo", "--data", "synthetic", "--out", "r", "--batch", "0"));
        e = assertThrows(InputException.class, () -> run("--config", "demo", "--data", "synthetic", "--out", "r", "--backend", "cuda"));
        assertTrue(e.getMessage().contains("cuda"), e.getMessage());
    }
}
