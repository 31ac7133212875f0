package dev.sisma.autoencoder.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.nio.file.Files;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.Json;

/**
 * The full sd-vae-ft-mse configuration has exactly the reference's 248 parameter names and shapes
 * ({@code sdvae_full_names.json}, from {@code make_golden.py}), so the real diffusers file loads.
 */
class SdVaeLayoutTest {
    @Test
    void fullConfigurationHasDiffusersNamesAndShapes() throws Exception {
        Map<?, ?> ref = (Map<?, ?>) Json.parse(Files.readString(GoldenParityTest.golden("sdvae_full_names.json")));
        Map<String, String> want = new TreeMap<>();
        ref.forEach((k, v) -> want.put((String) k, ((List<?>) v).stream().map(n -> ((Json.Num) n).text()).toList().toString()));
        Map<String, String> mine = new TreeMap<>();
        try (CpuBackend be = new CpuBackend(1); SdVae v = new SdVae("sd", SdVae.Config.SD, be)) {
            v.vae.namedParameters().forEach((n, p) -> mine.put(n, p.value().shape().toString()));
            assertEquals(83_653_863L, v.vae.parameterCount());
        }
        assertEquals(248, want.size());
        assertEquals(want, mine);
    }
}
