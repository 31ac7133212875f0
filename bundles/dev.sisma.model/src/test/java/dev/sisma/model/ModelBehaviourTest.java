package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.HashSet;
import java.util.Set;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.Sisma.ScanOrders;

/** Initialisation, scan orders, null mask and CFG, flow-matching draws, and that a tiny model learns. */
class ModelBehaviourTest {
    static CpuBackend be;

    /** A tiny pixel-space config: 8x8 images, 16 tokens, D 16. */
    static SismaConfig tiny() {
        return SismaConfig.named("demo").with("name", "tiny", "depth", 2, "hidden", 16, "patch", 2, "input_size", 8, "image_size", 8,
                "attention_heads", 2, "d_state", 4);
    }

    @BeforeAll
    static void start() {
        be = new CpuBackend(2);
    }

    @AfterAll
    static void stop() {
        be.close();
    }

    static Tensor randomMask(int b, SismaConfig cfg, long seed) {
        int s = cfg.imageSize();
        float[] v = new float[b * 19 * s * s];
        for (int i = 0; i < b; i++) {
            for (int p = 0; p < s * s; p++) {
                int cls = (int) (dev.sisma.engine.spi.Philox.uniformAt(seed, 0, i * s * s + p) * 19);
                v[(i * 19 + cls) * s * s + p] = 1f;
            }
        }
        return Tensor.of(be, v, b, 19, s, s);
    }

    @Test
    void scanOrdersArePermutationsAndSnakesMoveToNeighbours() {
        int g = 5;
        for (SismaConfig.ScanSchedule sch : SismaConfig.ScanSchedule.values()) {
            Set<String> distinct = new HashSet<>();
            for (int i = 0; i < 8; i++) {
                int[] o = ScanOrders.forBlock(sch, i, g);
                int[] sorted = o.clone();
                Arrays.sort(sorted);
                assertArrayEquals(ScanOrders.rowMajor(g, false), sorted, sch + " block " + i);
                int[] inv = ScanOrders.inverse(o);
                for (int k = 0; k < o.length; k++) {
                    assertEquals(k, inv[o[k]]);
                }
                distinct.add(Arrays.toString(o));
                if (sch == SismaConfig.ScanSchedule.SNAKE8) {
                    for (int k = 1; k < o.length; k++) {
                        int dr = Math.abs(o[k] / g - o[k - 1] / g), dc = Math.abs(o[k] % g - o[k - 1] % g);
                        assertEquals(1, dr + dc, "snake " + i + " jumps at " + k);
                    }
                }
            }
            assertEquals(sch == SismaConfig.ScanSchedule.RASTER ? 1 : sch == SismaConfig.ScanSchedule.ROWCOL4 ? 4 : 8, distinct.size());
        }
        // the spec's four: row-major, reversed, column-major, reversed column-major
        assertArrayEquals(new int[] {0, 3, 6, 1, 4, 7, 2, 5, 8}, ScanOrders.forBlock(SismaConfig.ScanSchedule.ROWCOL4, 2, 3));
        assertArrayEquals(new int[] {8, 5, 2, 7, 4, 1, 6, 3, 0}, ScanOrders.forBlock(SismaConfig.ScanSchedule.ROWCOL4, 3, 3));
    }

    @Test
    void initialisationFollowsTheSpecAndIsSeeded() {
        SismaConfig cfg = tiny();
        try (Sisma a = new Sisma(cfg, be); Sisma b = new Sisma(cfg, be); Sisma c = new Sisma(cfg.with("init_seed", 7), be)) {
            var pa = a.namedParameters();
            float[] alog = pa.get("blocks.1.cross_mamba.A_log").value().toArray();
            assertEquals(Math.log(3), alog[2], 1e-6);
            assertEquals(Math.log(4), alog[4 + 3], 1e-6);
            for (float d : pa.get("blocks.0.self_mamba.D").value().toArray()) {
                assertEquals(1f, d);
            }
            for (float bias : pa.get("blocks.0.self_mamba.dt_proj.bias").value().toArray()) {
                double dt = Math.log1p(Math.exp(bias));
                assertTrue(dt >= 1e-3 * 0.999 && dt <= 0.1 * 1.001, "dt " + dt);
            }
            float bound = (float) Math.pow(cfg.dtRank(), -0.5);
            for (float w : pa.get("blocks.0.self_mamba.dt_proj.weight").value().toArray()) {
                assertTrue(Math.abs(w) <= bound);
            }
            for (String zero : new String[] {"blocks.0.adaLN_modulation.1.weight", "blocks.1.adaLN_modulation.1.bias",
                    "final_layer.linear.weight", "final_layer.adaLN_modulation.1.weight"}) {
                for (float v : pa.get(zero).value().toArray()) {
                    assertEquals(0f, v, zero);
                }
            }
            double a6 = Math.sqrt(6.0 / (16 + 64));
            float[] inProj = pa.get("blocks.0.self_mamba.in_proj.weight").value().toArray();
            assertTrue(Arrays.stream(toDouble(inProj)).allMatch(v -> Math.abs(v) <= a6));
            assertTrue(Arrays.stream(toDouble(inProj)).map(Math::abs).max().getAsDouble() > a6 * 0.9, "xavier range used");
            assertFalse(pa.get("blocks.0.self_mamba.A_log").weightDecay());
            assertFalse(pa.get("blocks.0.cross_mamba.dt_proj.bias").weightDecay());
            assertTrue(pa.get("blocks.0.cross_mamba.in_proj.weight").weightDecay());
            var pb = b.namedParameters();
            var pc = c.namedParameters();
            assertArrayEquals(inProj, pb.get("blocks.0.self_mamba.in_proj.weight").value().toArray());
            assertFalse(Arrays.equals(inProj, pc.get("blocks.0.self_mamba.in_proj.weight").value().toArray()));
            // zero final layer: the untrained velocity is exactly 0 (DiT's init)
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                Tensor v = a.forward(Tensor.randn(be, 1, 0, 2, 3, 8, 8), Tensor.of(be, new float[] {0.2f, 0.9f}, 2), randomMask(2, cfg, 3));
                for (float x : v.toArray()) {
                    assertEquals(0f, x);
                }
            }
        }
    }

    private static double[] toDouble(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    @Test
    void everyScheduleBlockTypeAndMaskOptionRuns() {
        String[][] variants = {{"scan_schedule", "raster"}, {"scan_schedule", "snake8"}, {"block_type", "attention"},
                {"mask_downsample", "nearest"}, {"cross_scan_input", "mask"}};
        for (String[] kv : variants) {
            SismaConfig cfg = tiny().with(kv[0], kv[1], "image_size", 16, "space", "latent");
            try (Sisma m = new Sisma(cfg, be); Scope s = Scope.open()) {
                perturb(m);
                Tensor loss = FlowMatching.loss(m, Tensor.randn(be, 1, 0, 2, 3, 8, 8), Tensor.randn(be, 2, 0, 2, 3, 8, 8),
                        Tensor.of(be, new float[] {0.3f, 0.7f}, 2), randomMask(2, cfg, 5), new boolean[] {true, false});
                assertTrue(Float.isFinite(loss.item()) && loss.item() > 0, kv[1]);
                loss.backward();
                assertNotNull(m.namedParameters().get("mask_embedder.null_tokens").grad(), kv[1]);
                m.zeroGrad();
            }
        }
    }

    /** Small seeded noise on every parameter so the zero-initialised parts do not hide the rest. */
    static void perturb(Sisma m) {
        long k = 11;
        for (Parameter p : m.namedParameters().values()) {
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                Tensor n = Tensor.randn(be, k++, 0, p.value().shape().dims()).mul(0.1f);
                be.binary(dev.sisma.engine.spi.BinaryOp.ADD, p.value().buffer(), p.value().shape().strides(), n.buffer(),
                        n.shape().strides(), p.value().buffer(), p.value().shape().dims());
            }
        }
    }

    @Test
    void nullMaskAndClassifierFreeGuidance() {
        SismaConfig cfg = tiny();
        try (Sisma m = new Sisma(cfg, be); Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            perturb(m);
            Tensor x = Tensor.randn(be, 1, 0, 2, 3, 8, 8), t = Tensor.of(be, new float[] {0.4f, 0.4f}, 2);
            Tensor mask = randomMask(2, cfg, 9), other = randomMask(2, cfg, 10);
            float[] vc = m.forward(x, t, mask).toArray();
            float[] vu = m.forward(x, t, mask, new boolean[] {true, true}).toArray();
            // the null mask ignores the mask given
            assertArrayEquals(vu, m.forward(x, t, other, new boolean[] {true, true}).toArray());
            assertFalse(Arrays.equals(vc, vu));
            assertArrayEquals(vc, m.forwardWithCfg(x, t, mask, 1.0).toArray());
            float[] g = m.forwardWithCfg(x, t, mask, 3.0).toArray();
            for (int i = 0; i < g.length; i++) {
                assertEquals(vu[i] + 3 * (vc[i] - vu[i]), g[i], 1e-4);
            }
        }
        try (Sisma m = new Sisma(tiny().with("null_mask", false, "mask_dropout", 0.0), be); Scope s = Scope.open()) {
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.forwardWithCfg(
                    Tensor.zeros(be, 1, 3, 8, 8), Tensor.zeros(be, 1), randomMask(1, tiny(), 1), 2.0));
            assertTrue(e.getMessage().contains("null_mask: false"), e.getMessage());
        }
    }

    @Test
    void flowMatchingDrawsDependOnlyOnSeedAndStep() {
        FlowMatching fm = new FlowMatching(tiny().with("mask_dropout", 0.3));
        try (Scope s = Scope.open()) {
            var a = fm.draw(be, 400, 5, 17);
            var b = fm.draw(be, 400, 5, 17);
            var c = fm.draw(be, 400, 5, 18);
            assertArrayEquals(a.x0().toArray(), b.x0().toArray());
            assertArrayEquals(a.t().toArray(), b.t().toArray());
            assertArrayEquals(a.dropMask(), b.dropMask());
            assertFalse(Arrays.equals(a.t().toArray(), c.t().toArray()));
            float[] t = a.t().toArray();
            double mean = 0;
            for (float v : t) {
                assertTrue(v > 0 && v < 1);
                mean += v / t.length;
            }
            assertEquals(0.5, mean, 0.05); // logit-normal(0, 1) is symmetric about 1/2
            int drops = 0;
            for (boolean d : a.dropMask()) {
                drops += d ? 1 : 0;
            }
            assertEquals(120, drops, 35);
        }
    }

    @Test
    void aTinyModelLearnsAFixedBatch() {
        SismaConfig cfg = tiny().with("mask_dropout", 0.0);
        FlowMatching fm = new FlowMatching(cfg);
        try (Sisma m = new Sisma(cfg, be); Scope outer = Scope.open()) {
            Tensor x1 = Tensor.randn(be, 42, 0, 4, 3, 8, 8).mul(0.5f), mask = randomMask(4, cfg, 4);
            var params = m.parameters();
            Tensor[] mom = new Tensor[params.size()], var = new Tensor[params.size()];
            for (int i = 0; i < params.size(); i++) {
                mom[i] = Tensor.zeros(be, params.get(i).value().shape().dims());
                var[i] = Tensor.zeros(be, params.get(i).value().shape().dims());
            }
            float first = 0, last = 0;
            for (int step = 1; step <= 40; step++) {
                try (Scope s = Scope.open()) {
                    Tensor loss = fm.loss(m, x1, mask, 3, step % 4); // 4 fixed draws
                    loss.backward();
                    if (step <= 4) {
                        first += loss.item() / 4;
                    }
                    if (step > 36) {
                        last += loss.item() / 4;
                    }
                }
                for (int i = 0; i < params.size(); i++) {
                    Parameter p = params.get(i);
                    if (p.grad() == null) {
                        continue; // the null mask, unused without mask dropout
                    }
                    be.adamw(p.value().buffer(), p.grad().buffer(), mom[i].buffer(), var[i].buffer(), p.value().size(),
                            3e-3f, 0.9f, 0.999f, 1e-8f, 0f, step);
                }
                m.zeroGrad();
            }
            assertTrue(last < 0.8 * first, "loss " + first + " -> " + last);
        }
    }
}
