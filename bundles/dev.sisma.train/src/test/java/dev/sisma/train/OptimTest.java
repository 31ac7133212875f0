package dev.sisma.train;

import static org.junit.jupiter.api.Assertions.*;

import java.util.LinkedHashMap;
import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.train.optim.AdamW;
import dev.sisma.train.optim.AdamWSettings;
import dev.sisma.train.optim.Ema;
import dev.sisma.train.optim.WeightDecayRule;

class OptimTest {
    final RefBackend be = new RefBackend();

    /** Sets each parameter's gradient to the given values: backward of sum(p * c). */
    private void grads(Map<String, Parameter> ps, Map<String, float[]> g) {
        try (Scope s = Scope.open()) {
            Tensor total = null;
            for (var e : ps.entrySet()) {
                Tensor c = Tensor.of(be, g.get(e.getKey()), e.getValue().value().shape().dims());
                Tensor t = Ops.sum(Ops.mul(e.getValue().value(), c));
                total = total == null ? t : Ops.add(total, t);
            }
            total.backward();
        }
    }

    /** PyTorch AdamW for one value. */
    static double[] adamwRef(double p, double g, double m, double v, double lr, double b1, double b2, double eps, double wd, long t) {
        p -= lr * wd * p;
        m = b1 * m + (1 - b1) * g;
        v = b2 * v + (1 - b2) * g * g;
        p -= lr * (m / (1 - Math.pow(b1, t))) / (Math.sqrt(v / (1 - Math.pow(b2, t))) + eps);
        return new double[] {p, m, v};
    }

    @Test
    void adamwMatchesPyTorchWithGroupsClippingAndWarmup() {
        Map<String, Parameter> ps = new LinkedHashMap<>();
        ps.put("blocks.0.mlp.0.weight", new Parameter(Tensor.of(be, new float[] {1f, -2f, 0.5f, 3f}, 2, 2)));
        ps.put("blocks.0.mlp.0.bias", new Parameter(Tensor.of(be, new float[] {0.25f, -0.75f}, 2)));
        AdamWSettings s = new AdamWSettings(0.1, 0.9, 0.999, 1e-8, 0.05, 2, 1.0);
        try (AdamW opt = new AdamW(ps, s, WeightDecayRule.SISMA)) {
            assertTrue(opt.decays("blocks.0.mlp.0.weight"));
            assertFalse(opt.decays("blocks.0.mlp.0.bias"));
            double[][] ref = {{1, -2, 0.5, 3, 0.25, -0.75}, new double[6], new double[6]};
            float[][] gs = {{3f, 4f, 0f, 0f, 0f, 0f}, {0.1f, -0.2f, 0.3f, 0.05f, -0.1f, 0.2f}, {2f, -1f, 0.5f, 0f, 1f, 1f}};
            for (int t = 1; t <= 3; t++) {
                float[] g = gs[t - 1];
                grads(ps, Map.of("blocks.0.mlp.0.weight", new float[] {g[0], g[1], g[2], g[3]},
                        "blocks.0.mlp.0.bias", new float[] {g[4], g[5]}));
                double norm = 0;
                for (float x : g) norm += x * x;
                norm = Math.sqrt(norm);
                double scale = norm > 1 ? 1 / (norm + 1e-6) : 1;
                AdamW.StepResult r = opt.step();
                opt.zeroGrad();
                assertEquals(norm, r.gradNorm(), 1e-5);
                assertEquals(norm > 1, r.clipped());
                double lr = t < 2 ? 0.1 * t / 2 : 0.1;
                assertEquals(lr, r.lr(), 1e-12);
                for (int i = 0; i < 6; i++) {
                    double[] o = adamwRef(ref[0][i], g[i] * scale, ref[1][i], ref[2][i], lr, 0.9, 0.999, 1e-8, i < 4 ? 0.05 : 0, t);
                    ref[0][i] = o[0];
                    ref[1][i] = o[1];
                    ref[2][i] = o[2];
                }
                float[] w = ps.get("blocks.0.mlp.0.weight").value().toArray(), b = ps.get("blocks.0.mlp.0.bias").value().toArray();
                for (int i = 0; i < 4; i++) assertEquals(ref[0][i], w[i], 1e-5, "weight " + i + " step " + t);
                for (int i = 0; i < 2; i++) assertEquals(ref[0][4 + i], b[i], 1e-5, "bias " + i + " step " + t);
            }
            assertEquals(3, opt.stepCount());
        }
    }

    @Test
    void parameterWithoutGradientIsSkipped() {
        Map<String, Parameter> ps = new LinkedHashMap<>();
        ps.put("a", new Parameter(Tensor.of(be, new float[] {1f}, 1)));
        ps.put("b", new Parameter(Tensor.of(be, new float[] {2f}, 1)));
        try (AdamW opt = new AdamW(ps, AdamWSettings.defaults().withWeightDecay(0.1), WeightDecayRule.MARKED_ONLY)) {
            grads(Map.of("a", ps.get("a")), Map.of("a", new float[] {1f}));
            opt.step();
            assertEquals(2f, ps.get("b").value().toArray()[0]);
            assertEquals(0, opt.paramStep("b"));
            assertEquals(1, opt.paramStep("a"));
        }
    }

    @Test
    void weightDecayRuleFollowsTheSpec() {
        Parameter p = new Parameter(Tensor.zeros(be, 2));
        for (String n : new String[] {"blocks.3.self_mamba.A_log", "blocks.3.cross_mamba.D", "blocks.1.self_mamba.dt_proj.bias",
                "x_embedder.proj.bias", "final_layer.norm_final.weight", "pos_embed", "mask_embedder.pos"}) {
            assertFalse(WeightDecayRule.SISMA.test(n, p), n);
        }
        for (String n : new String[] {"blocks.3.self_mamba.in_proj.weight", "blocks.0.self_mamba.dt_proj.weight",
                "x_embedder.proj.weight", "blocks.0.self_mamba.conv1d.weight"}) {
            assertTrue(WeightDecayRule.SISMA.test(n, p), n);
        }
        assertFalse(WeightDecayRule.SISMA.test("w", new Parameter(Tensor.zeros(be, 2)).weightDecay(false)));
    }

    @Test
    void emaFollowsTheFormulaAndWarmsUp() {
        Map<String, Parameter> src = Map.of("w", new Parameter(Tensor.of(be, new float[] {1f, 2f}, 2)));
        Map<String, Parameter> dst = Map.of("w", new Parameter(Tensor.zeros(be, 2)).trainable(false));
        Ema ema = new Ema(src, dst, 0.9, false);
        assertArrayEquals(new float[] {1f, 2f}, dst.get("w").value().toArray());
        src.get("w").set(Tensor.of(be, new float[] {3f, 0f}, 2));
        ema.update();
        float[] e = dst.get("w").value().toArray();
        assertEquals(0.9 * 1 + 0.1 * 3, e[0], 1e-6);
        assertEquals(0.9 * 2, e[1], 1e-6);
        Ema warm = new Ema(src, dst, 0.9999, true);
        assertEquals(2.0 / 11, warm.nextDecay(), 1e-12);
    }

    @Test
    void fitsALinearMapAndSkipsDecayWhereAsked() {
        // y = x W^T with W* = [[2, -1]] (the engine's module test of the optimizer, now the only AdamW)
        try (dev.sisma.engine.nn.Linear lin = new dev.sisma.engine.nn.Linear(be, 2, 1, true)) {
            lin.bias.weightDecay(false);
            AdamWSettings s = AdamWSettings.defaults().withLr(0.05).withWeightDecay(0.01).withWarmupSteps(0);
            try (AdamW opt = new AdamW(lin.namedParameters(), s, WeightDecayRule.MARKED_ONLY)) {
                assertTrue(opt.decays("weight"));
                assertFalse(opt.decays("bias"));
                float first = 0, last = 0;
                for (int i = 0; i < 200; i++) {
                    try (Scope sc = Scope.open()) {
                        Tensor x = Tensor.randn(be, 3, i * 16L, 8, 2);
                        Tensor target = Ops.linear(x, Tensor.of(be, new float[] {2, -1}, 1, 2), null);
                        Tensor loss = Ops.mseLoss(lin.forward(x), target);
                        if (i == 0) first = loss.item();
                        last = loss.item();
                        loss.backward();
                    }
                    opt.step();
                    opt.zeroGrad();
                }
                assertEquals(200, opt.stepCount());
                assertTrue(last < first * 0.01f, "loss " + first + " -> " + last);
                float[] w = lin.weight.value().toArray();
                assertEquals(2f, w[0], 0.1f);
                assertEquals(-1f, w[1], 0.1f);
            }
        }
    }

    @Test
    void optimizerStepAllocatesNothing() {
        TinyTask task = new TinyTask(be);
        try (AdamW opt = new AdamW(task.parameters(), AdamWSettings.defaults(), WeightDecayRule.SISMA)) {
            Ema ema = new Ema(task.parameters(), task.emaParameters(), 0.999, true);
            int before = -1;
            for (int step = 1; step <= 5; step++) {
                try (Scope s = Scope.open()) {
                    task.loss(step, 1, 4).backward();
                }
                opt.step();
                opt.zeroGrad();
                ema.update();
                if (step == 1) before = be.live;
            }
            assertEquals(before, be.live, "device buffers alive after step 1 vs step 5");
        }
    }

    @Test
    void warmupSchedule() {
        AdamWSettings s = AdamWSettings.defaults().withLr(1e-3).withWarmupSteps(10);
        assertEquals(1e-4, s.lrAt(1), 1e-15);
        assertEquals(5e-4, s.lrAt(5), 1e-15);
        assertEquals(1e-3, s.lrAt(10), 1e-15);
        assertEquals(1e-3, s.lrAt(1000), 1e-15);
    }
}
