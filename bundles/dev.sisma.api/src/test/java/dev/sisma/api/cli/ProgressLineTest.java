package dev.sisma.api.cli;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;

import org.junit.jupiter.api.Test;

class ProgressLineTest {
    final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);
    long now = 1_000_000_000L;

    private ProgressLine line(boolean terminal) {
        return new ProgressLine(stream, terminal, Duration.ofSeconds(5), () -> now);
    }

    private String text() {
        return bytes.toString(StandardCharsets.UTF_8);
    }

    @Test
    void notATerminalGetsTheFirstLineThenOnePerIntervalAndTheLast() {
        ProgressLine p = line(false);
        // 100 updates 0.2 s apart: 20 s in all
        for (int i = 1; i <= 100; i++) {
            p.print("step " + i + "/100", i == 100);
            now += 200_000_000L;
        }
        List<String> lines = text().lines().toList();
        assertEquals(List.of("step 1/100", "step 26/100", "step 51/100", "step 76/100", "step 100/100"), lines);
        assertFalse(text().contains("\r"), "whole lines, nothing rewritten");
    }

    @Test
    void dueSaysWhetherALineWouldPrint() {
        ProgressLine p = line(false);
        assertTrue(p.due(false), "the first update prints");
        assertTrue(p.print("a", false));
        now += Duration.ofSeconds(4).toNanos();
        assertFalse(p.due(false));
        assertFalse(p.print("b", false));
        assertTrue(p.due(true), "the last update always prints");
        now += Duration.ofSeconds(1).toNanos();
        assertTrue(p.due(false));
        assertTrue(p.print("c", false));
        assertEquals(List.of("a", "c"), text().lines().toList());
    }

    @Test
    void aTerminalRewritesOneLineEveryTime() {
        ProgressLine p = line(true);
        p.print("step 1/3", false);
        p.print("step 2/3", false);   // no time has passed: still printed
        p.print("step 3/3", true);
        p.finish();                   // the line already ended
        assertEquals("\rstep 1/3\u001b[K\rstep 2/3\u001b[K\rstep 3/3\u001b[K" + System.lineSeparator(), text());
    }

    @Test
    void finishEndsALineLeftOpen() {
        ProgressLine p = line(true);
        p.print("step 1/9", false);
        p.finish();
        assertTrue(text().endsWith("\u001b[K" + System.lineSeparator()), text());
        ProgressLine q = new ProgressLine(stream, false, Duration.ZERO, () -> now);
        bytes.reset();
        q.print("x", false);
        q.finish();
        assertEquals("x" + System.lineSeparator(), text());
    }

    @Test
    void theLaunchScriptsPropertyDecides() {
        String old = System.getProperty(ProgressLine.STDERR_TERMINAL);
        try {
            System.setProperty(ProgressLine.STDERR_TERMINAL, "true");
            assertTrue(ProgressLine.isTerminal(ProgressLine.STDERR_TERMINAL));
            assertTrue(ProgressLine.forStderr(stream).terminal());
            System.setProperty(ProgressLine.STDERR_TERMINAL, "false");
            assertFalse(ProgressLine.forStderr(stream).terminal());
            assertEquals(ProgressLine.DEFAULT_INTERVAL, ProgressLine.forStderr(stream).interval());
        } finally {
            if (old == null) {
                System.clearProperty(ProgressLine.STDERR_TERMINAL);
            } else {
                System.setProperty(ProgressLine.STDERR_TERMINAL, old);
            }
        }
    }
}
