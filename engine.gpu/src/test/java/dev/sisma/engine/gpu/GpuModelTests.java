package dev.sisma.engine.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.FlowMatching;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;

/**
 * The SISMA model on a GPU backend (engine.opencl's OpenClModelTest, engine.cuda's CudaModelTest)
 * against the CPU backend and against the PyTorch goldens of
 * the model bundle ({@code bundles/dev.sisma.model/src/test/resources/golden}: the small seeded
 * config, 4 blocks, hidden 32, 64 tokens, batch 2; float64 reference results on float32 weights).
 *
 * <p>Tolerances, as max |a - b| / max |b| per tensor (float32 with other summation orders and fma
 * in the GPU GEMM): GPU vs CPU {@value #TOL_CPU} for the velocity, the loss, every parameter
 * gradient and a 3-step Euler run, {@value #TOL_ADAMW} for the AdamW-updated parameters; GPU vs PyTorch {@value #TOL_GOLDEN}
 * (the bound the CPU backend meets in the model bundle's GoldenParityTest).
 * Without the device the tests fail or skip as the backend's {@link GpuUnderTest#require} says.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GpuModelTests implements GpuUnderTest {
    static final double TOL_CPU = 2e-5;
    static final double TOL_GOLDEN = 1e-4;
    /**
     * AdamW's step is lr * m / (sqrt(v) + eps): about lr whatever the gradient's size, so where a
     * gradient is near zero its rounding (which differs between the backends' GEMM summation orders)
     * moves the update by a fraction of lr. Measured up to 2.1e-5 after the CPU GEMM's k-blocking changed.
     */
    static final double TOL_ADAMW = 1e-4;
    /** The model bundle's golden files, read in place (Maven runs tests in the module directory). */
    static final Path GOLDEN = Path.of("..", "bundles", "dev.sisma.model", "src", "test", "resources", "golden");

    private Backend gpu;
    private CpuBackend cpu;
    private SafeTensorsFile inputs, outputs;

    @BeforeAll
    void open() throws Exception {
        gpu = openOrNull();
        cpu = new CpuBackend(2);
        assertTrue(Files.isDirectory(GOLDEN), "golden files of the model bundle not found at " + GOLDEN.toAbsolutePath());
        inputs = SafeTensorsFile.open(GOLDEN.resolve("inputs.safetensors"));
        outputs = SafeTensorsFile.open(GOLDEN.resolve("outputs.safetensors"));
    }

    @AfterAll
    void close() {
        if (inputs != null) inputs.close();
        if (outputs != null) outputs.close();
        if (gpu instanceof GpuBackend<?> g) g.close();
        cpu.close();
    }

    private void require() {
        require(gpu);
    }

    /** The golden config (golden/config.json, written by the PyTorch reference in its own key names). */
    static SismaConfig goldenConfig() {
        return SismaConfig.DEFAULTS.with("name", "golden", "depth", 4, "hidden", 32, "patch", 2, "input_size", 16,
                "image_size", 32, "in_channels", 4, "out_channels", 4, "attention_heads", 4, "block_type", "sisma");
    }

    static Sisma model(Backend be) {
        Sisma m = new Sisma(goldenConfig(), be);
        Checkpoints.load(m, GOLDEN.resolve("weights.safetensors"));
        return m;
    }

    private Tensor input(Backend be, String name) {
        int[] dims = Arrays.stream(inputs.info(name).shape()).mapToInt(Math::toIntExact).toArray();
        return Tensor.of(be, inputs.readFloats(name), dims);
    }

    /** max |a - ref| / max |ref|. */
    static double relError(float[] a, float[] ref) {
        assertEquals(ref.length, a.length);
        double maxDiff = 0, maxRef = 0;
        for (int i = 0; i < a.length; i++) {
            maxDiff = Math.max(maxDiff, Math.abs((double) a[i] - ref[i]));
            maxRef = Math.max(maxRef, Math.abs(ref[i]));
        }
        return maxDiff / Math.max(maxRef, 1e-30);
    }

    static void assertClose(String what, float[] actual, float[] ref, double tol) {
        double e = relError(actual, ref);
        assertTrue(e <= tol, what + ": relative error " + e + " > " + tol);
    }

    @Test
    void forwardMatchesCpuAndPyTorch() {
        require();
        try (Sisma mo = model(gpu); Sisma mc = model(cpu); Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            float[] vo = mo.forward(input(gpu, "x"), input(gpu, "t"), input(gpu, "mask")).toArray();
            float[] vc = mc.forward(input(cpu, "x"), input(cpu, "t"), input(cpu, "mask")).toArray();
            assertClose("v (" + label() + " vs CPU)", vo, vc, TOL_CPU);
            assertClose("v (" + label() + " vs PyTorch)", vo, outputs.readFloats("v"), TOL_GOLDEN);
        }
    }

    /** Loss, backward, every parameter gradient, then two fused AdamW steps on every parameter. */
    @Test
    void trainingStepMatchesCpuAndPyTorch() {
        require();
        try (Sisma mo = model(gpu); Sisma mc = model(cpu); Scope s = Scope.open()) {
            Tensor lo = FlowMatching.loss(mo, input(gpu, "x0"), input(gpu, "x1"), input(gpu, "t"), input(gpu, "mask"), null);
            Tensor lc = FlowMatching.loss(mc, input(cpu, "x0"), input(cpu, "x1"), input(cpu, "t"), input(cpu, "mask"), null);
            assertClose("loss (" + label() + " vs CPU)", new float[] {lo.item()}, new float[] {lc.item()}, TOL_CPU);
            assertClose("loss (" + label() + " vs PyTorch)", new float[] {lo.item()}, outputs.readFloats("loss"), TOL_GOLDEN);
            lo.backward();
            lc.backward();

            Map<String, Parameter> po = mo.namedParameters(), pc = mc.namedParameters();
            assertEquals(pc.keySet(), po.keySet());
            List<String> bad = new ArrayList<>();
            double worstCpu = 0, worstGolden = 0;
            for (String name : po.keySet()) {
                Tensor go = po.get(name).grad(), gc = pc.get(name).grad();
                assertNotNull(go, "no " + label() + " gradient for " + name);
                float[] g = go.toArray();
                double ec = relError(g, gc.toArray()), eg = relError(g, outputs.readFloats("grad." + name));
                worstCpu = Math.max(worstCpu, ec);
                worstGolden = Math.max(worstGolden, eg);
                if (ec > TOL_CPU || eg > TOL_GOLDEN) bad.add(name + " (vs CPU " + ec + ", vs PyTorch " + eg + ")");
            }
            assertTrue(bad.isEmpty(), "gradients off: " + bad);

            // AdamW (the backends' fused step; PyTorch defaults but lr 1e-3 and decay 0.01), two steps
            // with the same gradient so the moments and the bias correction are exercised.
            for (String name : po.keySet()) {
                float[] after = adamw(gpu, po.get(name)), ref = adamw(cpu, pc.get(name));
                double e = relError(after, ref);
                worstCpu = Math.max(worstCpu, e);
                if (e > TOL_ADAMW) bad.add(name + " after AdamW (" + e + ")");
            }
            assertTrue(bad.isEmpty(), "AdamW updates off: " + bad);
            System.out.println("training step: worst " + label() + " vs CPU " + worstCpu + ", gradients vs PyTorch " + worstGolden);
        }
    }

    private static float[] adamw(Backend be, Parameter p) {
        long n = p.value().size();
        try (DeviceBuffer m = be.allocate(n); DeviceBuffer v = be.allocate(n)) {
            for (long step = 1; step <= 2; step++) {
                be.adamw(p.value().buffer(), p.grad().buffer(), m, v, n, 1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, step);
            }
            return p.value().toArray();
        }
    }

    @Test
    void eulerSamplingMatchesCpuAndPyTorch() {
        require();
        try (Sisma mo = model(gpu); Sisma mc = model(cpu); Scope s = Scope.open()) {
            var euler = Samplers.byName("euler").orElseThrow();
            float[] xo = euler.sample(mo.velocityField(input(gpu, "mask")), input(gpu, "sample_x0"), 3, 1.0, null).toArray();
            float[] xc = euler.sample(mc.velocityField(input(cpu, "mask")), input(cpu, "sample_x0"), 3, 1.0, null).toArray();
            assertClose("Euler 3 steps (" + label() + " vs CPU)", xo, xc, TOL_CPU);
            float[] traj = outputs.readFloats("euler3.traj");
            int n = xo.length;
            assertClose("Euler 3 steps (" + label() + " vs PyTorch)", xo, Arrays.copyOfRange(traj, 3 * n, 4 * n), TOL_GOLDEN);
        }
    }
}
