package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Optional;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.UnavailableBackend;

class InfoCommandTest {
    final Backends backends = mock(Backends.class);
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    /** Installed bundles and their states; the CUDA bundle is not installed. */
    final java.util.Map<String, String> bundles = new java.util.HashMap<>(java.util.Map.of(
            "dev.sisma.engine.cpu", "active", "dev.sisma.engine.opencl", "active"));

    String info() throws Exception {
        InfoCommand info = new InfoCommand(backends, bundles::get);
        UnavailableBackend cuda = mock(UnavailableBackend.class);
        when(cuda.name()).thenReturn("cuda");
        when(cuda.reason()).thenReturn("no CUDA driver (libcuda.so.1 not found)");
        info.addUnavailable(cuda);
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, info.run(List.of(), SismaCli.context(ps, ps, new ByteArrayInputStream(new byte[0]))));
        return out.toString(StandardCharsets.UTF_8);
    }

    static Backend backend(String name, String device) {
        Backend b = mock(Backend.class);
        when(b.name()).thenReturn(name);
        when(b.device()).thenReturn(device);
        return b;
    }

    @Test
    void marksTheBackendInUseAndSaysWhyOthersAreAbsent() throws Exception {
        Backend cpu = backend("cpu", "2 threads");
        Backend opencl = backend("opencl", "pthread-skylake (PoCL)");
        when(backends.all()).thenReturn(List.of(opencl, cpu));
        when(backends.current()).thenReturn(Optional.of(cpu));
        String s = info();
        assertTrue(s.contains("  * cpu      2 threads\n"), s);
        assertTrue(s.contains("    opencl   pthread-skylake (PoCL)\n"), s);
        assertTrue(s.contains("cuda     absent: no CUDA driver (libcuda.so.1 not found)"), s);
    }

    @Test
    void listsEveryBackendOfTheBuildWithWhyItIsAbsent() throws Exception {
        Backend cpu = backend("cpu", "2 threads");
        when(backends.all()).thenReturn(List.of(cpu));
        when(backends.current()).thenReturn(Optional.of(cpu));
        bundles.put("dev.sisma.engine.opencl", "stopped");
        InfoCommand info = new InfoCommand(backends, bundles::get);
        PrintStream ps = new PrintStream(out, true, StandardCharsets.UTF_8);
        assertEquals(0, info.run(List.of(), SismaCli.context(ps, ps, new ByteArrayInputStream(new byte[0]))));
        String s = out.toString(StandardCharsets.UTF_8);
        assertTrue(s.contains("  * cpu      2 threads\n"), s);
        assertTrue(s.contains("    opencl   absent: bundle dev.sisma.engine.opencl is stopped\n"), s);
        assertTrue(s.contains("    cuda     absent: no CUDA backend bundle (dev.sisma.engine.cuda) is installed\n"), s);
        for (InfoCommand.KnownBackend k : InfoCommand.KNOWN) {
            assertTrue(s.contains(" " + k.name() + " "), k.name() + " is listed: " + s);
        }
        // an unavailable service's own reason wins over the bundle state, and a backend is listed once
        out.reset();
        assertEquals(1, info().lines().filter(l -> l.contains(" cuda ")).count(), out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void saysWhenThePreferredBackendIsMissing() throws Exception {
        Backend cpu = backend("cpu", "2 threads");
        when(backends.all()).thenReturn(List.of(cpu));
        when(backends.current()).thenReturn(Optional.of(cpu));
        when(backends.preferred()).thenReturn("opencl");
        when(backends.byName("opencl")).thenReturn(Optional.empty());
        assertTrue(info().contains("preferred backend 'opencl' is not registered; using cpu"));
    }
}
