package dev.sisma.ui.swt.internal.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.Generator;

class EditCommandTest {
    @TempDir
    Path tmp;

    EditCommand command() {
        EditCommand.Config c = mock(EditCommand.Config.class);
        when(c.autosave_dir()).thenReturn("");
        return new EditCommand(c);
    }

    CommandContext ctx() {
        CommandContext ctx = mock(CommandContext.class);
        when(ctx.workingDirectory()).thenReturn(tmp);
        when(ctx.resolve(org.mockito.ArgumentMatchers.anyString())).thenAnswer(i -> tmp.resolve((String) i.getArgument(0)));
        return ctx;
    }

    @Test
    void nameAndUsage() {
        EditCommand c = command();
        assertEquals("edit", c.name());
        assertTrue(c.usage().startsWith("usage: sisma edit [MASK]"));
    }

    @Test
    void badInputIsAOneLineErrorNamingTheFile() {
        EditCommand c = command();
        InputException e = assertThrows(InputException.class, () -> c.run(List.of("missing.png"), ctx()));
        assertEquals(tmp.resolve("missing.png") + ": no such mask file", e.getMessage());
        assertThrows(UsageException.class, () -> c.run(List.of("a.png", "b.png"), ctx()));
        assertThrows(UsageException.class, () -> c.run(List.of("--mask", "a.png"), ctx()));
        InputException p = assertThrows(InputException.class, () -> c.run(List.of("--photo", "nope.jpg"), ctx()));
        assertTrue(p.getMessage().contains("nope.jpg"));
    }

    @Test
    void theGeneratorComesAndGoes() {
        EditCommand c = command();
        Generator g = mock(Generator.class);
        assertNull(c.generators().current());
        c.bindGenerator(g);
        assertEquals(g, c.generators().current());
        c.unbindGenerator(g);
        assertNull(c.generators().current());
        assertTrue(c.generators().absentReason().contains("no generator service"));
    }
}
