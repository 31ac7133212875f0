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

    String info() throws Exception {
        InfoCommand info = new InfoCommand(backends);
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
    void saysWhenThePreferredBackendIsMissing() throws Exception {
        Backend cpu = backend("cpu", "2 threads");
        when(backends.all()).thenReturn(List.of(cpu));
        when(backends.current()).thenReturn(Optional.of(cpu));
        when(backends.preferred()).thenReturn("opencl");
        when(backends.byName("opencl")).thenReturn(Optional.empty());
        assertTrue(info().contains("preferred backend 'opencl' is not registered; using cpu"));
    }
}
