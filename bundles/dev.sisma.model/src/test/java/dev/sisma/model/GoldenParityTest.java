package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.model.sampling.Samplers;

/**
 * Parity with the independent PyTorch reference ({@code src/test/python/sisma_ref.py}): the golden
 * files hold float64 results on float32 weights and inputs; the Java model must match the
 * velocity, the loss and every parameter gradient within 1e-4 of each tensor's largest value.
 */
public class GoldenParityTest {
    static final double TOL = 1e-4;
    static CpuBackend be;
    static SafeTensorsFile inputs, outputs;

    public static Path golden(String name) throws Exception {
        return Path.of(GoldenParityTest.class.getResource("/golden/" + name).toURI());
    }

    /** The golden config (config.json) as a SismaConfig. */
    public static SismaConfig goldenConfig(boolean attention) {
        return SismaConfig.DEFAULTS.with("name", attention ? "golden-attention" : "golden", "depth", attention ? 2 : 4,
                "hidden", attention ? 16 : 32, "patch", 2, "input_size", 16, "image_size", 32, "in_channels", 4,
                "out_channels", 4, "attention_heads", attention ? 2 : 4, "block_type", attention ? "attention" : "sisma");
    }

    @BeforeAll
    static void open() throws Exception {
        be = new CpuBackend(2);
        inputs = SafeTensorsFile.open(golden("inputs.safetensors"));
        outputs = SafeTensorsFile.open(golden("outputs.safetensors"));
    }

    @AfterAll
    static void close() {
        inputs.close();
        outputs.close();
        be.close();
    }

    static Tensor read(SafeTensorsFile f, String name) {
        int[] dims = Arrays.stream(f.info(name).shape()).mapToInt(Math::toIntExact).toArray();
        return Tensor.of(be, f.readFloats(name), dims);
    }

    /** max |a - ref| / max |ref|. */
    public static double relError(float[] a, float[] ref) {
        assertEquals(ref.length, a.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs(a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    static void assertClose(String what, float[] actual, float[] ref) {
        double e = relError(actual, ref);
        assertTrue(e <= TOL, what + ": relative error " + e);
    }

    static Sisma model(boolean attention) throws Exception {
        Sisma m = new Sisma(goldenConfig(attention), be);
        Checkpoints.load(m, golden(attention ? "weights_attention.safetensors" : "weights.safetensors"));
        return m;
    }

    @Test
    void fixedEmbeddingsMatch() {
        SismaConfig cfg = goldenConfig(false);
        assertClose("act.pos_embed", Sisma.posEmbed2d(cfg.hidden(), cfg.grid()), outputs.readFloats("act.pos_embed"));
        assertClose("act.t_freq", Sisma.TimestepEmbedder.frequencies(inputs.readFloats("t"), 256, 1000.0),
                outputs.readFloats("act.t_freq"));
    }

    @Test
    void forwardMatchesPyTorch() throws Exception {
        try (Sisma m = model(false); Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            Tensor v = m.forward(read(inputs, "x"), read(inputs, "t"), read(inputs, "mask"));
            assertClose("v", v.toArray(), outputs.readFloats("v"));
        }
    }

    @Test
    void lossAndEveryGradientMatchPyTorch() throws Exception {
        try (Sisma m = model(false); Scope s = Scope.open()) {
            Tensor loss = FlowMatching.loss(m, read(inputs, "x0"), read(inputs, "x1"), read(inputs, "t"), read(inputs, "mask"), null);
            assertClose("loss", new float[] {loss.item()}, outputs.readFloats("loss"));
            loss.backward();
            List<String> bad = new ArrayList<>();
            double worst = 0;
            for (var e : m.namedParameters().entrySet()) {
                Parameter p = e.getValue();
                assertTrue(p.grad() != null, "no gradient for " + e.getKey());
                double err = relError(p.grad().toArray(), outputs.readFloats("grad." + e.getKey()));
                worst = Math.max(worst, err);
                if (err > TOL) {
                    bad.add(e.getKey() + " (" + err + ")");
                }
            }
            assertTrue(bad.isEmpty(), "gradients off: " + bad);
            assertEquals(m.namedParameters().size(), outputs.names().stream().filter(n -> n.startsWith("grad.")).count());
            System.out.println("worst gradient relative error " + worst);
            m.zeroGrad();
        }
    }

    @Test
    void eulerAndHeunMatchPyTorch() throws Exception {
        try (Sisma m = model(false); Scope s = Scope.open()) {
            Tensor x0 = read(inputs, "sample_x0"), mask = read(inputs, "mask");
            Tensor euler = Samplers.byName("euler").orElseThrow().sample(m.velocityField(mask), x0, 3, 1.0, null);
            float[] traj = outputs.readFloats("euler3.traj");
            int n = (int) x0.size();
            assertClose("euler3", euler.toArray(), Arrays.copyOfRange(traj, 3 * n, 4 * n));
            Tensor heun = Samplers.byName("heun").orElseThrow().sample(m.velocityField(mask), x0, 2, 1.0, null);
            float[] htraj = outputs.readFloats("heun2.traj");
            assertClose("heun2", heun.toArray(), Arrays.copyOfRange(htraj, 2 * n, 3 * n));
        }
    }

    @Test
    void attentionBaselineMatchesPyTorch() throws Exception {
        try (SafeTensorsFile out = SafeTensorsFile.open(golden("outputs_attention.safetensors"));
                Sisma m = model(true); Scope s = Scope.open()) {
            try (NoGrad ng = NoGrad.enter()) {
                Tensor v = m.forward(read(inputs, "x"), read(inputs, "t"), read(inputs, "mask"));
                assertClose("attention v", v.toArray(), out.readFloats("v"));
            }
            Tensor loss = FlowMatching.loss(m, read(inputs, "x0"), read(inputs, "x1"), read(inputs, "t"), read(inputs, "mask"), null);
            assertClose("attention loss", new float[] {loss.item()}, out.readFloats("loss"));
        }
    }
}
