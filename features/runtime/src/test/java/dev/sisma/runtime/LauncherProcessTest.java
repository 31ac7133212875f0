package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/** The launcher as a user runs it: a separate JVM, its real exit codes and output. */
class LauncherProcessTest {

    record Run(int code, String out, String err) {
    }

    static Run launch(String... args) throws Exception {
        return launchWithInput("", args);
    }

    static Run launchWithInput(String input, String... args) throws Exception {
        Path runtime = Path.of(System.getProperty("sisma.runtime"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector",
                "-Dsisma.runtime=" + runtime, "-cp",
                runtime.resolve("lib/org.apache.felix.framework.jar") + File.pathSeparator + runtime.resolve("lib/dev.sisma.launcher.jar"),
                "dev.sisma.launcher.Launcher"));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().write(input.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        assertTrue(p.waitFor(60, TimeUnit.SECONDS), "launcher did not exit");
        return new Run(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8),
                new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void versionAndHelpExitZero() throws Exception {
        Run v = launch("--version");
        assertEquals(0, v.code, v.err);
        assertTrue(v.out.startsWith("sisma 0.1.0"), v.out);
        Run h = launch("--help");
        assertEquals(0, h.code, h.err);
        assertTrue(h.out.contains("info") && h.out.contains("shell"), h.out);
    }

    @Test
    void shellRunsSismaCommandsInTheGogoScope() throws Exception {
        Run r = launchWithInput("sisma:info\nexit 0\n", "shell");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("Welcome to Apache Felix Gogo"), r.out);
        assertTrue(r.out.contains("backends:"), r.out);
    }

    @Test
    void aBareExitLeavesTheShellWithoutAnError() throws Exception {
        Run r = launchWithInput("exit\n", "shell");
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.contains("Welcome to Apache Felix Gogo"), r.out);
        assertTrue(!(r.out + r.err).contains("Cannot coerce"), r.out + r.err);
    }

    @Test
    void helpShellAndInfoListEveryBackend() throws Exception {
        Run h = launch("help", "shell");
        assertEquals(0, h.code, h.err);
        assertTrue(h.out.startsWith("usage: sisma shell"), h.out);
        Run i = launch("info");
        assertEquals(0, i.code, i.err);
        assertTrue(i.out.contains("* cpu "), i.out);
        assertTrue(i.out.matches("(?s).*\\n    cuda     absent: [^\\n]+\\n.*"), i.out);
    }

    @Test
    void generateTakesACelebAMaskHqPartFile(@org.junit.jupiter.api.io.TempDir Path out) throws Exception {
        Path part = Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini", "CelebAMask-HQ-mask-anno", "0",
                "00001_hair.png");
        Run r = launch("generate", "--mask", part.toString(), "--samples", "1", "--seed", "5", "--steps", "1",
                "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertTrue(java.nio.file.Files.size(out.resolve("00001-s5.png")) > 0, r.out);
    }

    @Test
    void generatePaintsTheExampleMaskWithTheBundledDemoModel(@org.junit.jupiter.api.io.TempDir Path out) throws Exception {
        Path mask = Path.of(System.getProperty("sisma.examples")).resolve("face-1.png");
        Run r = launch("generate", "--mask", mask.toString(), "--samples", "2", "--seed", "3", "--steps", "2",
                "--out", out.toString());
        assertEquals(0, r.code, r.err);
        for (String name : List.of("face-1-s3.png", "face-1-s4.png", "face-1-sheet.png")) {
            assertTrue(java.nio.file.Files.size(out.resolve(name)) > 0, name);
        }
        java.awt.image.BufferedImage sample = javax.imageio.ImageIO.read(out.resolve("face-1-s3.png").toFile());
        assertEquals(32, sample.getWidth(), "the demo model paints 32x32");
    }

    @Test
    void aBadMaskIsOneLineAndExitTwo(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        Path bad = dir.resolve("bad.png");
        java.nio.file.Files.writeString(bad, "not a png");
        Run r = launch("generate", "--mask", bad.toString(), "--out", dir.resolve("out").toString());
        assertEquals(2, r.code, r.err);
        String line = r.err.lines().filter(l -> l.startsWith("sisma generate: ")).findFirst().orElse("");
        assertTrue(line.contains("bad.png"), r.err);
        assertTrue(!java.nio.file.Files.exists(dir.resolve("out")), "nothing written");
    }

    @Test
    void unknownOptionExitsTwoWithUsage() throws Exception {
        Run r = launch("--verison");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("unknown option --verison (did you mean --version?)"), r.err);
        assertTrue(r.err.contains("usage: sisma <command>"), r.err);
    }
}
