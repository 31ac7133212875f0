package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;

class SismaCliTest {
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final SismaCli cli = new SismaCli("1.2.3");
    final Command generate = mock(Command.class);

    @BeforeEach
    void register() {
        when(generate.name()).thenReturn("generate");
        when(generate.summary()).thenReturn("paint faces");
        when(generate.usage()).thenReturn("usage: sisma generate --mask FILE");
        cli.addCommand(generate);
    }

    int run(String... argv) {
        return cli.run(List.of(argv), SismaCli.context(new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), new ByteArrayInputStream(new byte[0])));
    }

    String out() {
        return out.toString(StandardCharsets.UTF_8);
    }

    String err() {
        return err.toString(StandardCharsets.UTF_8);
    }

    @Test
    void helpListsContributedCommandsAndTheShell() {
        assertEquals(0, run("--help"));
        assertTrue(out().contains("generate  paint faces"), out());
        assertTrue(out().contains("shell"), out());
    }

    @Test
    void helpShellShowsTheShellsUsage() {
        assertEquals(0, run("help", "shell"), err());
        assertTrue(out().startsWith("usage: sisma shell\n"), out());
        assertTrue(out().contains("sisma: scope"), out());
        assertEquals("", err());
    }

    @Test
    void everyContinuationLineOfTheGeneratorUsagesIsIndented() {
        for (Command c : List.of(new GenerateCommand(), new SampleCommand())) {
            List<String> lines = c.usage().lines().toList();
            assertTrue(lines.get(0).startsWith("usage: sisma " + c.name()), lines.get(0));
            for (String line : lines.subList(1, lines.size())) {
                assertTrue(line.startsWith("  "), c.name() + ": not indented: '" + line + "'");
            }
            assertTrue(lines.stream().anyMatch(l -> l.startsWith("  --samples N")), c.usage());
        }
    }

    @Test
    void fileSystemFailuresSayWhy() throws Exception {
        when(generate.run(any(), any())).thenThrow(new java.nio.file.AccessDeniedException("/out/.face-s1.png.1f.tmp"));
        assertEquals(1, run("generate"));
        assertEquals("sisma generate: failed: /out/.face-s1.png.1f.tmp: permission denied\n", err());
    }

    @Test
    void dispatchesToTheCommandAndReturnsItsExitCode() throws Exception {
        when(generate.run(any(), any())).thenReturn(7);
        assertEquals(7, run("generate", "--mask", "m.png"));
    }

    @Test
    void usageErrorsPrintOneLineAndTheUsageWithCodeTwo() throws Exception {
        when(generate.run(any(), any())).thenThrow(new UsageException("missing required option --mask"));
        assertEquals(2, run("generate"));
        assertEquals("sisma generate: missing required option --mask\nusage: sisma generate --mask FILE\n", err());
    }

    @Test
    void badInputIsOneLineWithCodeTwo() throws Exception {
        when(generate.run(any(), any())).thenThrow(new InputException("m.png: not a PNG image"));
        assertEquals(2, run("generate", "--mask", "m.png"));
        assertEquals("sisma generate: m.png: not a PNG image\n", err());
    }

    @Test
    void failuresAreExitCodeOne() throws Exception {
        when(generate.run(any(), any())).thenThrow(new IllegalStateException("device lost"));
        assertEquals(1, run("generate"));
        assertEquals("sisma generate: failed: device lost\n", err());
    }

    @Test
    void unknownCommandSuggestsTheNearestWithItsUsage() {
        assertEquals(2, run("generat"));
        assertTrue(err().startsWith("sisma: unknown command 'generat' (did you mean 'generate'?)\nusage: sisma generate"), err());
    }

    @Test
    void commandsThatLeaveAreNoLongerOffered() {
        cli.removeCommand(generate);
        assertEquals(2, run("generate"));
    }

    @Test
    void versionPrintsTheBundleVersion() {
        assertEquals(0, run("--version"));
        assertTrue(out().startsWith("sisma 1.2.3 (Java "), out());
    }
}
