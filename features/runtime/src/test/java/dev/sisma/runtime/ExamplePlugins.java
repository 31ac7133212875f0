package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The example plugins of {@code examples/plugins}, built as a third party builds them: by their own
 * Maven, offline, against sisma's artifacts laid into a private local repository (so this works in
 * {@code mvn verify} of a clean clone as well). Built once per test JVM, into
 * {@code target/example-plugins} (its {@code mvn.log} says what happened), for every test class that
 * uses them.
 */
final class ExamplePlugins {
    /** The sisma artifacts the examples compile against (the runtime's own copies of them). */
    static final List<String> API_ARTIFACTS = List.of("dev.sisma.api", "dev.sisma.engine", "dev.sisma.data", "dev.sisma.model");
    static final String SISMA_VERSION = "0.1.0-SNAPSHOT";

    private static Path jars;
    private static Throwable failed;

    private ExamplePlugins() {}

    /** The folder holding each example's jar ({@code hello-command-1.0.0.jar}, ...), building them on first use. */
    static synchronized Path jars() throws Exception {
        if (failed != null) {   // one failed build, not one per test that asks
            throw new AssertionError("the examples did not build (see above)", failed);
        }
        if (jars == null) {
            Path dir = Path.of(System.getProperty("sisma.runtime")).resolveSibling("example-plugins");
            try {
                delete(dir);
                jars = build(Files.createDirectories(dir));
            } catch (Exception | AssertionError e) {
                failed = e;
                throw e;
            }
        }
        return jars;
    }

    /** Deletes a folder left by an earlier run; the links into the local repository go, not what they point to. */
    private static void delete(Path dir) throws IOException {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> walk = Files.walk(dir)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    /**
     * Builds every example with {@code mvn -o package}: a copy of {@code examples/plugins} (no stale
     * target folders), a local repository holding sisma's artifacts as a third party installs them
     * and, by link, everything else of the build's own local repository (plugins, OSGi annotations).
     */
    private static Path build(Path tmp) throws Exception {
        Path src = Path.of(System.getProperty("sisma.repo"), "examples", "plugins");
        Path copy = tmp.resolve("examples");
        try (Stream<Path> walk = Files.walk(src)) {
            for (Path p : (Iterable<Path>) walk.filter(p -> !p.toString().contains("/target"))::iterator) {
                Path to = copy.resolve(src.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(to);
                } else {
                    Files.copy(p, to);
                }
            }
        }
        Path repo = localRepository(tmp.resolve("m2"));
        String maven = Path.of(System.getProperty("sisma.maven.home", ""), "bin", "mvn").toString();
        if (!Files.isExecutable(Path.of(maven))) {
            maven = "mvn";
        }
        ProcessBuilder pb = new ProcessBuilder(maven, "-o", "-q", "-B", "-Dmaven.repo.local=" + repo, "package")
                .directory(copy.toFile()).redirectErrorStream(true).redirectOutput(tmp.resolve("mvn.log").toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        boolean done = p.waitFor(300, TimeUnit.SECONDS);
        if (!done) {
            p.destroyForcibly();
        }
        String log = Files.readString(tmp.resolve("mvn.log"));
        assertTrue(done && p.exitValue() == 0, "the examples did not build:\n" + log);
        Path out = Files.createDirectories(tmp.resolve("jars"));
        try (Stream<Path> built = Files.list(copy)) {
            for (Path project : built.filter(Files::isDirectory).toList()) {
                try (Stream<Path> target = Files.list(project.resolve("target"))) {
                    for (Path jar : target.filter(j -> j.toString().endsWith(".jar")).toList()) {
                        Files.copy(jar, out.resolve(jar.getFileName()));
                    }
                }
            }
        }
        return out;
    }

    /** A local repository with sisma's API artifacts (jar and a plain pom) and links to the rest of the build's. */
    private static Path localRepository(Path repo) throws IOException {
        Path m2 = Path.of(System.getProperty("sisma.m2"));
        Files.createDirectories(repo.resolve("dev"));
        try (Stream<Path> top = Files.list(m2)) {
            for (Path p : top.toList()) {
                if (!p.getFileName().toString().equals("dev")) {
                    Files.createSymbolicLink(repo.resolve(p.getFileName().toString()), p);
                }
            }
        }
        if (Files.isDirectory(m2.resolve("dev"))) {
            try (Stream<Path> dev = Files.list(m2.resolve("dev"))) {
                for (Path p : dev.filter(d -> !d.getFileName().toString().equals("sisma")).toList()) {
                    Files.createSymbolicLink(repo.resolve("dev").resolve(p.getFileName().toString()), p);
                }
            }
        }
        Path bundles = Path.of(System.getProperty("sisma.runtime"), "bundle");
        for (String a : API_ARTIFACTS) {
            Path dir = Files.createDirectories(repo.resolve("dev/sisma").resolve(a).resolve(SISMA_VERSION));
            Files.copy(bundles.resolve(a + "-" + SISMA_VERSION + ".jar"), dir.resolve(a + "-" + SISMA_VERSION + ".jar"));
            Files.writeString(dir.resolve(a + "-" + SISMA_VERSION + ".pom"), """
                    <project><modelVersion>4.0.0</modelVersion><groupId>dev.sisma</groupId>
                    <artifactId>%s</artifactId><version>%s</version></project>
                    """.formatted(a, SISMA_VERSION));
        }
        return repo;
    }
}
