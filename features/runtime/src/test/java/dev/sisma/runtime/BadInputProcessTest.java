package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.sisma.runtime.LauncherProcessTest.Run;

/**
 * Bad input as a user meets it, through the real {@code ./sisma} process (the launcher over the
 * runtime's bundles): each row is refused with exit code 2 and one stderr line that names the file
 * and the problem, before any model work, and nothing is written to the output folder.
 */
class BadInputProcessTest {
    /** One bad input: how to make it in a fresh folder, the command line, and what the line must say. */
    record Row(String name, Setup setup, String fileInMessage, String problem) {
        @Override
        public String toString() {
            return name;
        }
    }

    /** Prepares the row in {@code dir}; returns the command line (its --out is {@code dir/out} unless the row says). */
    @FunctionalInterface
    interface Setup {
        List<String> prepare(Path dir) throws Exception;
    }

    /** The lines ./sisma drops from stderr (the JVM's warnings about Unsafe and incubator modules). */
    static final java.util.regex.Pattern JVM_NOTE = java.util.regex.Pattern.compile(
            "^WARNING: (.*Unsafe|Please consider reporting|sun.misc.Unsafe|A terminally deprecated|Using incubator modules)");

    static Path mini() {
        return Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini");
    }

    static Path example() {
        return Path.of(System.getProperty("sisma.examples")).resolve("face-1.png");
    }

    static List<String> generate(Path mask, Path out) {
        return List.of("generate", "--mask", mask.toString(), "--out", out.toString(), "--samples", "1", "--steps", "1",
                "--seed", "1");
    }

    static Stream<Row> rows() {
        return Stream.of(
                new Row("a photo as a colour mask",
                        dir -> generate(mini().resolve("CelebA-HQ-img/0.jpg"), dir.resolve("out")),
                        "0.jpg", "% of pixels are far from every CelebAMask-HQ palette colour (limit 5%)"),
                new Row("a photo in a folder of masks (sample)",
                        dir -> {
                            Path masks = Files.createDirectories(dir.resolve("masks"));
                            Files.copy(example(), masks.resolve("a.png"));
                            BufferedImage photo = ImageIO.read(mini().resolve("CelebA-HQ-img/1.jpg").toFile());
                            ImageIO.write(photo, "png", masks.resolve("b.png").toFile());
                            return List.of("sample", "--masks", masks.toString(), "--out", dir.resolve("out").toString(),
                                    "--samples", "1", "--steps", "1", "--seed", "1");
                        },
                        "b.png", "% of pixels are far from every CelebAMask-HQ palette colour (limit 5%)"),
                new Row("a 1x1 mask",
                        dir -> {
                            BufferedImage one = new BufferedImage(1, 1, BufferedImage.TYPE_BYTE_GRAY);
                            one.getRaster().setSample(0, 0, 0, 1);
                            Path f = dir.resolve("one.png");
                            ImageIO.write(one, "png", f.toFile());
                            return generate(f, dir.resolve("out"));
                        },
                        "one.png", "mask is 1x1 pixels; a mask needs at least 16x16"),
                new Row("--out is an existing file",
                        dir -> {
                            Path out = dir.resolve("out");
                            Files.writeString(out, "a file, not a folder");
                            return generate(example(), out);
                        },
                        "out", "--out needs a folder, but this is an existing file"),
                new Row("--out below an existing file",
                        dir -> {
                            Files.writeString(dir.resolve("out"), "a file, not a folder");
                            return generate(example(), dir.resolve("out").resolve("faces"));
                        },
                        "faces", "cannot create this folder: " + "%DIR%/out is a file, not a folder"),
                new Row("--out is a folder nothing can be written in",
                        dir -> generate(example(), unwritable(dir)),
                        "%OUT%", "cannot write in this folder: "));
    }

    /**
     * {@code dir/out} made read-only; where that does not stop a write (root ignores permissions),
     * {@code /proc}, a folder nobody can create files in.
     */
    static Path unwritable(Path dir) throws IOException {
        Path out = Files.createDirectories(dir.resolve("out"));
        out.toFile().setWritable(false, false);
        try {
            Files.delete(Files.createTempFile(out, "probe", ".tmp"));
        } catch (IOException refused) {
            return out;
        }
        return Path.of("/proc");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void isRefusedWithOneLineAndExitTwoAndWritesNothing(Row row, @TempDir Path dir) throws Exception {
        List<String> argv = new ArrayList<>(row.setup().prepare(dir));
        Path out = Path.of(argv.get(argv.indexOf("--out") + 1));
        List<Path> before = listing(out);
        Run r = sisma(argv);
        try {
            assertEquals(2, r.code(), "exit code; stderr: " + r.err());
            // The JVM's own notes, which ./sisma filters out of stderr the same way
            List<String> lines = r.err().lines().filter(l -> !l.isBlank() && !JVM_NOTE.matcher(l).find()).toList();
            assertEquals(1, lines.size(), "one stderr line: " + r.err());
            String line = lines.get(0);
            String command = argv.get(0);
            assertTrue(line.startsWith("sisma " + command + ": "), line);
            assertTrue(line.contains(row.fileInMessage().replace("%OUT%", out.toString())), "names the file: " + line);
            assertTrue(line.contains(row.problem().replace("%DIR%", dir.toString())), "says the problem: " + line);
            assertEquals("", r.out(), "nothing on stdout");
            if (out.startsWith(dir)) { // (not /proc: its listing changes by itself, and nothing can be written there)
                assertEquals(before, listing(out), "nothing written to " + out);
            }
        } finally {
            dir.resolve("out").toFile().setWritable(true, false);
        }
    }

    /** The launcher as ./sisma starts it: the same JVM options, from the test's working folder. */
    static Run sisma(List<String> argv) throws Exception {
        Path runtime = Path.of(System.getProperty("sisma.runtime"));
        String javaBin = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(javaBin, "--add-modules", "jdk.incubator.vector",
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow",
                "-XX:+IgnoreUnrecognizedVMOptions", "-Dsisma.runtime=" + runtime, "-cp",
                runtime.resolve("lib/org.apache.felix.framework.jar") + java.io.File.pathSeparator
                        + runtime.resolve("lib/dev.sisma.launcher.jar"),
                "dev.sisma.launcher.Launcher"));
        cmd.addAll(argv);
        Process p = new ProcessBuilder(cmd).redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null"))).start();
        var out = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getInputStream()));
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        assertTrue(p.waitFor(120, java.util.concurrent.TimeUnit.SECONDS), "sisma did not exit");
        return new Run(p.exitValue(), out.get(), err.get());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** What the output path holds: its entries when a folder, itself when a file, nothing when missing. */
    static List<Path> listing(Path out) throws IOException {
        if (Files.isDirectory(out)) {
            try (Stream<Path> s = Files.list(out)) {
                return s.sorted().toList();
            }
        }
        return Files.exists(out) ? List.of(out) : List.of();
    }
}
