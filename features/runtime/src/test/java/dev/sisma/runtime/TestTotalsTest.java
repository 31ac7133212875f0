package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code ./run-tests}' closing line counts the reports of this run only, not stale ones left in {@code target/}. */
class TestTotalsTest {

    static void report(Path root, String module, int tests, int failures, Instant written) throws Exception {
        Path dir = Files.createDirectories(root.resolve(module).resolve("target/surefire-reports"));
        Path xml = dir.resolve("TEST-dev.sisma.X.xml");
        Files.writeString(xml, "<testsuite tests=\"" + tests + "\" failures=\"" + failures + "\" errors=\"0\" skipped=\"0\"/>");
        Files.setLastModifiedTime(xml, FileTime.from(written));
    }

    @Test
    void staleReportsAreNotCounted(@TempDir Path root) throws Exception {
        Instant start = Instant.now().minusSeconds(60);
        report(root, "stale", 100, 7, start.minusSeconds(3600));
        report(root, "fresh-a", 5, 1, start.plusSeconds(10));
        report(root, "nested/fresh-b", 3, 0, start.plusSeconds(20));
        Path marker = Files.createFile(root.resolve("start"));
        Files.setLastModifiedTime(marker, FileTime.from(start));

        Path script = Path.of(System.getProperty("sisma.repo"), "bin", "test-totals.py");
        Process p = new ProcessBuilder("python3", script.toString(), root.toString(), marker.toString()).redirectErrorStream(true).start();
        assertTrue(p.waitFor(30, TimeUnit.SECONDS));
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertEquals(0, p.exitValue(), out);
        assertEquals("[INFO] Results, all modules: Tests run: 8, Failures: 1, Errors: 0, Skipped: 0", out);
    }
}
