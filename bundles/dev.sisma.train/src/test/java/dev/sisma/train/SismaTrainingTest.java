package dev.sisma.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.synth.SyntheticDataset;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;
import dev.sisma.train.internal.SismaTask;
import dev.sisma.train.internal.TrainSettings;
import dev.sisma.train.internal.Trainer;
import dev.sisma.train.optim.AdamWSettings;

/** The loop on the real model (a tiny pixel-space config) on the CPU backend, with synthetic faces. */
class SismaTrainingTest {
    /** Shared by the test classes; its worker threads end with the test JVM. */
    static final CpuBackend CPU = new CpuBackend(2);

    @TempDir
    Path tmp;

    static SismaConfig tiny() {
        return SismaConfig.named("demo").with("name", "tiny", "depth", 2, "hidden", 16, "input_size", 8, "image_size", 8,
                "attention_heads", 2, "sample_steps", 2);
    }

    static TrainSettings settings(long steps) {
        return TrainSettings.defaults().withSteps(steps).withBatch(2).withSeed(5)
                .withOptim(AdamWSettings.defaults().withLr(1e-3).withWarmupSteps(2)).withCheckpointEvery(2)
                .withSampleEvery(0).withLogEvery(1).withEma(0.999, true);
    }

    static SismaTask task(SismaConfig cfg) {
        SyntheticDataset train = new SyntheticDataset(5, Split.TRAIN, 64);
        SyntheticDataset test = new SyntheticDataset(5, Split.TEST, 8);
        List<Mask> grid = List.of(test.mask(0, cfg.inputSize()), test.mask(1, cfg.inputSize()));
        return new SismaTask(cfg, CPU, train, grid, 2, Samplers.byName("euler").orElseThrow(), 2);
    }


    private static Trainer.Result run(SismaTask t, long steps, Path dir, boolean resume) throws Exception {
        return new Trainer(t, settings(steps), dir, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false)
                .run(resume);
    }

    /**
     * On the CPU backend a resumed run matches the straight one bit for bit: the backend's lane
     * sums run in a fixed order and its transcendentals are its own (FloatMath: the same IEEE
     * operations in the interpreter, C1 and C2), so a run does not depend on how warm the JVM is.
     * {@link TrainerTest#resumeContinuesExactly} shows the loop itself is exact on any deterministic backend.
     */
    @Test
    void resumeOfTheRealModelMatches() throws Exception {
        SismaConfig cfg = tiny();
        try (SismaTask straight = task(cfg); SismaTask first = task(cfg); SismaTask second = task(cfg)) {
            run(straight, 4, tmp.resolve("a"), false);
            run(first, 2, tmp.resolve("b"), false);
            run(second, 4, tmp.resolve("b"), true);
            for (Map.Entry<String, Parameter> e : straight.parameters().entrySet()) {
                float[] x = e.getValue().value().toArray(), y = second.parameters().get(e.getKey()).value().toArray();
                for (int i = 0; i < x.length; i++) {
                    assertEquals(Float.floatToIntBits(x[i]), Float.floatToIntBits(y[i]),
                            e.getKey() + "[" + i + "]: " + x[i] + " vs " + y[i]);
                }
            }
        }
        // the checkpoint and the EMA export are in the model's format: the model bundle loads them
        Path ckpt = tmp.resolve("a").resolve(Trainer.CHECKPOINT);
        try (SafeTensorsFile f = SafeTensorsFile.open(ckpt)) {
            assertEquals(cfg, Checkpoints.configOf(f));
            assertTrue(f.names().contains("ema.blocks.0.self_mamba.A_log"));
            assertTrue(f.names().contains("optim.m.blocks.1.cross_mamba.dt_proj.bias"));
        }
        try (Sisma m = new Sisma(cfg, CPU)) {
            Checkpoints.load(m, ckpt);
            Checkpoints.load(m, tmp.resolve("a").resolve(Trainer.EMA_WEIGHTS));
        }
        assertTrue(Files.size(tmp.resolve("a").resolve("samples").resolve("step-0000004.png")) > 100);
    }
}
