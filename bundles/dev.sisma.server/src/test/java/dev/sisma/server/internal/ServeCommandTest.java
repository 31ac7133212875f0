package dev.sisma.server.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.verifyNoInteractions;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.service.cm.ConfigurationAdmin;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.UsageException;

class ServeCommandTest {
    @TempDir
    Path work;

    @Test
    void aBadWeightFormatIsRefusedBeforeAnythingIsConfigured() {
        ConfigurationAdmin configAdmin = mock(ConfigurationAdmin.class);
        ServeCommand serve = new ServeCommand(null, configAdmin);
        PrintStream ps = new PrintStream(new ByteArrayOutputStream());
        CommandContext ctx = new CommandContext() {
            public PrintStream out() {
                return ps;
            }

            public PrintStream err() {
                return ps;
            }

            public java.io.InputStream in() {
                return new ByteArrayInputStream(new byte[0]);
            }

            public Path workingDirectory() {
                return work;
            }
        };
        UsageException e = assertThrows(UsageException.class,
                () -> serve.run(List.of("--port", "0", "--state-dir", "state", "--weights", "f64"), ctx));
        assertEquals("--weights: unknown weight format 'f64'; choices: f32, bf16, f16", e.getMessage());
        verifyNoInteractions(configAdmin);
        assertTrue(serve.usage().contains("--weights F "), serve.usage());
    }
}
