package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

import dev.sisma.api.cli.ProgressLine;
import dev.sisma.api.generate.Progress;

/** generate's and sample's progress through {@link ProgressLine}: whole lines, a few seconds apart, off a terminal. */
class FaceJobProgressTest {
    @Test
    void offATerminalOneLinePerIntervalAndTheLast() {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        long[] now = {0};
        Progress p = FaceJob.progress(new ProgressLine(new PrintStream(bytes, true, StandardCharsets.UTF_8), false,
                Duration.ofSeconds(5), () -> now[0]));
        for (int i = 1; i <= 50; i++) {
            now[0] += Duration.ofMillis(500).toNanos();   // 0.5 s per step, 25 s in all
            p.step(i, 50, 0.5);
        }
        List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
        assertEquals(6, lines.size(), lines.toString());
        assertEquals("  step 1/50  0.500 s/step  ETA 25 s", lines.get(0));
        assertEquals("  step 11/50  0.500 s/step  ETA 20 s", lines.get(1));
        assertEquals("  step 50/50  0.500 s/step  ETA 0 s", lines.get(5));
        assertFalse(bytes.toString(StandardCharsets.UTF_8).contains("\r"));
    }
}
