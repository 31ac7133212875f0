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
            // the per-op times: largest first, shares adding up to 1, consistent with the families
            assertEquals(1.0, r.ops().stream().mapToDouble(ModelBenchmark.OpTime::share).sum(), 1e-9);
            for (int i = 1; i < r.ops().size(); i++) assertTrue(r.ops().get(i - 1).seconds() >= r.ops().get(i).seconds());
            // gemm's time comes per shape ("gemm 16x96x32"): together they are its share
            assertEquals(r.gemmShare(), r.ops().stream().filter(o -> o.op().startsWith("gemm ")).mapToDouble(ModelBenchmark.OpTime::share).sum(), 1e-9);
            assertTrue(r.ops().stream().anyMatch(o -> o.op().matches("gemm \\d+x\\d+x\\d+")), "a Linear's gemm by its shape: " + r.ops());
            assertTrue(r.ops().stream().anyMatch(o -> o.op().startsWith("unary ")), "unary ops carry their operation: " + r.ops());
            assertEquals(1 + 3, r.opsTable(3).lines().count(), "a heading and three ops");
            assertTrue(r.opsTable(3).lines().findFirst().orElseThrow().contains("per denoise + train step"), r.opsTable(3));
            ModelBenchmark.Result a = ModelBenchmark.run(tiny.with("block_type", "attention"), 16, 1, 0, 1, be);
            assertEquals(0.0, a.scanShare());
        }
    }

    @Test
    void opTimesArePerStepSoTheyAddUpToAtMostTheStepTimes() {
        try (CpuBackend be = new CpuBackend(2)) {
            // Four timed repetitions: summed over them, the op times would be about 4x the steps' time.
            ModelBenchmark.Result r = ModelBenchmark.run(ModelBehaviourTest.tiny(), 16, 1, 1, 4, be);
            double ops = r.ops().stream().mapToDouble(ModelBenchmark.OpTime::seconds).sum();
            double step = r.denoiseSeconds() + r.trainSeconds();
            // Per step the backend time is part of the step's time; 2x leaves room for the median
            // of the steps being below their mean on a busy machine.
            assertTrue(ops > 0 && ops <= 2 * step, "ops " + ops + " s per step, denoise + train " + step + " s");
        }
    }

    @Test
    void warmupGoesOnUntilItsSecondsArePast() {
        try (CpuBackend be = new CpuBackend(1)) {
            long t0 = System.nanoTime();
            ModelBenchmark.Result r = ModelBenchmark.run(ModelBehaviourTest.tiny(), 16, 1, 1, 1, be, false, null, 0.6);
            double wall = (System.nanoTime() - t0) / 1e9;
            // one tiny step takes milliseconds: only the warm-up's time floor makes the run last 0.6 s
            assertTrue(wall >= 0.6 && r.denoiseSeconds() < 0.3, "run " + wall + " s, step " + r.denoiseSeconds() + " s");
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
