package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsWriter;

class CheckpointsTest {
    @TempDir
    Path dir;

    @Test
    void roundTripWithConfigAndEmaSection() throws Exception {
        try (CpuBackend be = new CpuBackend(1)) {
            SismaConfig cfg = ModelBehaviourTest.tiny();
            SismaConfig other = cfg.with("init_seed", 9);
            try (Sisma a = new Sisma(cfg, be); Sisma ema = new Sisma(other, be)) {
                Path plain = dir.resolve("a.safetensors");
                Checkpoints.save(a, plain, Map.of());
                try (Sisma b = Checkpoints.loadModel(plain, null, be)) {
                    assertEquals(cfg, b.config());
                    a.stateDict().forEach((n, d) -> assertArrayEquals(d.toArray(), b.stateDict().get(n).toArray(), n));
                }
                // a trainer checkpoint: model + ema.* + optim.*: the EMA weights are the ones used
                Path ck = dir.resolve("ck.safetensors");
                SafeTensorsWriter w = Checkpoints.writer(a, "", Map.of("step", "10"));
                Checkpoints.addTo(w, ema, "ema.");
                w.add("optim.step", new long[] {1}, new float[] {10});
                w.write(ck);
                try (Sisma b = Checkpoints.loadModel(ck, null, be)) {
                    ema.stateDict().forEach((n, d) -> assertArrayEquals(d.toArray(), b.stateDict().get(n).toArray(), n));
                }
                // an unknown tensor in the model section is an error naming it
                Path bad = dir.resolve("bad.safetensors");
                SafeTensorsWriter w2 = Checkpoints.writer(a, "", null);
                w2.add("module.x_embedder.proj.weight", new long[] {1}, new float[] {1});
                w2.write(bad);
                InputException e = assertThrows(InputException.class, () -> Checkpoints.loadModel(bad, null, be));
                assertEquals(bad + ": tensor module.x_embedder.proj.weight: not a parameter of model config tiny", e.getMessage());
                // a missing one too
                Path part = dir.resolve("part.safetensors");
                new SafeTensorsWriter().add("x_embedder.proj.bias", new long[] {16}, new float[16]).write(part);
                e = assertThrows(InputException.class, () -> Checkpoints.loadModel(part, cfg, be));
                assertEquals(part + ": tensor x_embedder.proj.weight: missing (expected shape [16, 3, 2, 2] for model config tiny)",
                        e.getMessage());
                assertTrue(Checkpoints.OTHER_SECTIONS.contains("ema"));
            }
        }
    }
}
