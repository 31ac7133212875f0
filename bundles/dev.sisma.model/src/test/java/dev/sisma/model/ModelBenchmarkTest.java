package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.cpu.CpuBackend;

class ModelBenchmarkTest {
    @Test
    void timesBothStepsAndSplitsTheTime() {
        try (CpuBackend be = new CpuBackend(2)) {
            SismaConfig tiny = ModelBehaviourTest.tiny();
            assertEquals(64, ModelBenchmark.atTokens(tiny, 64).tokens());
            ModelBenchmark.Result r = ModelBenchmark.run(tiny, 16, 1, 1, 1, be);
            assertEquals(16, r.tokens());
            assertTrue(r.denoiseSeconds() > 0 && r.trainSeconds() > 0);
            assertEquals(1.0, r.gemmShare() + r.scanShare() + r.otherShare(), 1e-9);
            assertTrue(r.gemmShare() > 0 && r.scanShare() > 0, r.line());
            ModelBenchmark.Result a = ModelBenchmark.run(tiny.with("block_type", "attention"), 16, 1, 0, 1, be);
            assertEquals(0.0, a.scanShare());
        }
    }

    @Test
    void denoiseOnlyLeavesTheTrainingStepOut() {
        try (CpuBackend be = new CpuBackend(2)) {
            ModelBenchmark.Result r = ModelBenchmark.run(ModelBehaviourTest.tiny(), 16, 1, 0, 1, be, false);
            assertTrue(r.denoiseSeconds() > 0);
            assertTrue(Double.isNaN(r.trainSeconds()));
            assertEquals(1.0, r.gemmShare() + r.scanShare() + r.otherShare(), 1e-9);
            assertTrue(r.line().contains("train not run"), r.line());
        }
    }
}
