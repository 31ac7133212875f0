package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code sisma train} in its own JVM, stopped with SIGTERM mid-run, then resumed from the checkpoint it left. */
class TrainSignalTest {
    @TempDir
    Path dir;

    static ProcessBuilder launcher(Path cwd, String... args) {
        Path runtime = Path.of(System.getProperty("sisma.runtime"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dsisma.runtime=" + runtime, "-Dsisma.cwd=" + cwd, "-cp",
                runtime.resolve("lib/org.apache.felix.framework.jar") + File.pathSeparator + runtime.resolve("lib/dev.sisma.launcher.jar"),
                "dev.sisma.launcher.Launcher"));
        cmd.addAll(List.of(args));
        return new ProcessBuilder(cmd).directory(cwd.toFile());
    }

    @Test
    void sigtermWritesACheckpointThatResumes() throws Exception {
        Path run = dir.resolve("run");
        Process p = launcher(dir, "train", "--config", "demo", "--data", "synthetic", "--data-count", "40", "--out", run.toString(),
                "--steps", "100000", "--batch", "2", "--log-every", "1", "--sample-every", "0", "--checkpoint-every", "100000",
                "--checkpoint-minutes", "60", "--backend", "cpu").redirectError(dir.resolve("err.txt").toFile()).redirectOutput(dir.resolve("out.txt").toFile()).start();
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(120);
        List<String> out = Files.readAllLines(dir.resolve("out.txt"));
        while (out.stream().noneMatch(l -> l.startsWith("step ")) && p.isAlive() && System.nanoTime() < deadline) {
            Thread.sleep(50);
            out = Files.readAllLines(dir.resolve("out.txt"));
        }
        assertTrue(p.isAlive(), "training ended early: " + out + Files.readString(dir.resolve("err.txt")));
        assertTrue(out.stream().anyMatch(l -> l.startsWith("step ")), "no progress line within 120 s: " + out);
        assertTrue(!Files.exists(run.resolve("checkpoint.safetensors")), "no step- or time-based checkpoint yet");

        p.destroy();   // SIGTERM
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "train did not stop after SIGTERM");
        out = Files.readAllLines(dir.resolve("out.txt"));
        String err = Files.readString(dir.resolve("err.txt"));
        assertEquals(143, p.exitValue(), "128 + SIGTERM; " + out + err);
        assertTrue(err.contains("sisma train: stopping"), err);
        Matcher m = Pattern.compile("checkpoint \\S+ at step (\\d+)").matcher(String.join("\n", out));
        assertTrue(m.find(), "the stop line names the checkpoint: " + out + err);
        long step = Long.parseLong(m.group(1));
        assertTrue(step >= 1, "step " + step);
        assertTrue(Files.size(run.resolve("checkpoint.safetensors")) > 1_000_000, "the demo model's checkpoint");
        try (var files = Files.list(run)) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains(".tmp")), "no temp files left");
        }

        Process resume = launcher(dir, "train", "--resume", "--out", "run", "--steps", Long.toString(step + 2))
                .redirectError(dir.resolve("resume-err.txt").toFile()).start();
        String resumeOut = new String(resume.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertTrue(resume.waitFor(180, TimeUnit.SECONDS), "resume did not finish");
        assertEquals(0, resume.exitValue(), resumeOut + Files.readString(dir.resolve("resume-err.txt")));
        assertTrue(resumeOut.contains("steps " + (step + 1) + ".." + (step + 2)), resumeOut);
        List<String> metrics = Files.readAllLines(run.resolve("metrics.jsonl"));
        assertEquals(step + 2, metrics.size(), "each step once");
        for (int i = 0; i < metrics.size(); i++) {
            assertTrue(metrics.get(i).startsWith("{\"step\":" + (i + 1) + ","), metrics.get(i));
        }
        assertTrue(Files.exists(run.resolve("ema.safetensors")));
    }
}
