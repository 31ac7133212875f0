package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Shape;
import dev.sisma.engine.Tensor;

/**
 * The engine's ops against PyTorch 1.13 (outputs and input gradients of sum(out * dy)), from
 * golden.safetensors written by src/test/python/make_golden.py. The file is read here with a
 * minimal reader of our own (F32 only) so this test does not depend on dev.sisma.engine.io.
 */
class PyTorchGoldenTest {
    private static final CpuBackend BE = new CpuBackend(2);
    private static Map<String, float[]> values;
    private static Map<String, int[]> shapes;

    @BeforeAll
    static void load() throws IOException {
        byte[] bytes;
        try (InputStream in = PyTorchGoldenTest.class.getResourceAsStream("golden.safetensors")) {
            assertNotNull(in, "golden.safetensors missing: run src/test/python/make_golden.py");
            bytes = in.readAllBytes();
        }
        ByteBuffer bb = ByteBuffer.wrap(bytes).order(ByteOrder.LITTLE_ENDIAN);
        int hlen = (int) bb.getLong(0);
        String header = new String(bytes, 8, hlen, StandardCharsets.UTF_8);
        values = new HashMap<>();
        shapes = new HashMap<>();
        Matcher m = Pattern.compile("\"([^\"]+)\":\\{\"dtype\":\"F32\",\"shape\":\\[([0-9,]*)\\],\"data_offsets\":\\[(\\d+),(\\d+)\\]\\}").matcher(header);
        while (m.find()) {
            int[] shape = m.group(2).isEmpty() ? new int[0] : Arrays.stream(m.group(2).split(",")).mapToInt(Integer::parseInt).toArray();
            int from = Integer.parseInt(m.group(3)), to = Integer.parseInt(m.group(4));
            float[] v = new float[(to - from) / 4];
            bb.position(8 + hlen + from);
            bb.asFloatBuffer().get(v);
            values.put(m.group(1), v);
            shapes.put(m.group(1), shape);
        }
        assertEquals(110, values.size(), "tensors in golden.safetensors");
    }

    @AfterAll
    static void shutdown() { BE.close(); }

    private static Tensor t(String name) {
        float[] v = values.get(name);
        assertNotNull(v, name);
        return Tensor.of(BE, v, shapes.get(name));
    }

    /** Runs op on the named inputs of case {@code name}, compares output and every recorded gradient. */
    private static void check(String name, double tol, Function<Tensor[], Tensor> op, String... inputs) {
        try (Scope s = Scope.open()) {
            Tensor[] in = new Tensor[inputs.length];
            for (int i = 0; i < in.length; i++) in[i] = t(name + "." + inputs[i]).requiresGrad(true);
            Tensor out = op.apply(in);
            compare(name + ".out", out, tol);
            Ops.sum(Ops.mul(out, t(name + ".dy").reshape(out.shape().dims()))).backward();
            for (int i = 0; i < in.length; i++) {
                String g = name + ".grad." + inputs[i];
                if (values.containsKey(g)) compare(g, in[i].grad(), tol);
            }
        }
    }

    private static void compare(String name, Tensor got, double tol) {
        float[] want = values.get(name), have = got.toArray();
        assertEquals(Shape.of(shapes.get(name)).size(), have.length, name + " size");
        for (int i = 0; i < want.length; i++)
            if (Math.abs(want[i] - have[i]) > tol * (1 + Math.abs(want[i])))
                fail(name + "[" + i + "]: engine " + have[i] + ", PyTorch " + want[i]);
    }

    @Test
    void linearAlgebraAndActivations() {
        check("linear", 1e-5, t -> Ops.linear(t[0], t[1], t[2]), "x", "w", "b");
        check("matmul", 1e-5, t -> Ops.matmul(t[0], t[1]), "a", "b");
        check("silu", 1e-5, t -> Ops.silu(t[0]), "x");
        check("gelu_tanh", 1e-5, t -> Ops.gelu(t[0]), "x");
        check("softplus", 1e-5, t -> Ops.softplus(t[0]), "x");
        check("sigmoid", 1e-5, t -> Ops.sigmoid(t[0]), "x");
        check("exp", 1e-5, t -> Ops.exp(t[0]), "x");
        check("softmax", 1e-5, t -> Ops.softmax(t[0]), "x");
        check("mse", 1e-5, t -> Ops.mseLoss(t[0], t[1]), "a", "b");
    }

    @Test
    void normsConvsAndResampling() {
        check("layer_norm", 1e-4, t -> Ops.layerNorm(t[0], null, null, 1e-6f), "x");
        check("layer_norm_affine", 1e-4, t -> Ops.layerNorm(t[0], t[1], t[2], 1e-5f), "x", "w", "b");
        check("group_norm", 1e-4, t -> Ops.groupNorm(t[0], 4, t[1], t[2], 1e-6f), "x", "w", "b");
        check("conv2d_3x3", 1e-5, t -> Ops.conv2d(t[0], t[1], t[2], 1, 1), "x", "w", "b");
        check("conv2d_patch", 1e-5, t -> Ops.conv2d(t[0], t[1], t[2], 2, 0), "x", "w", "b");
        check("dwconv1d", 1e-5, t -> Ops.depthwiseCausalConv1d(t[0], t[1], t[2]), "x", "w", "b");
        check("avg_pool", 1e-6, t -> Ops.avgPool2d(t[0], 4), "x");
        check("upsample_nearest", 1e-6, t -> Ops.upsampleNearest2d(t[0], 2), "x");
    }

    @Test
    void selectiveScanMatchesTheMambaReferenceLoop() {
        check("selective_scan", 2e-5, t -> Ops.selectiveScan(t[0], t[1], t[2], t[3], t[4], t[5]), "u", "delta", "A", "B", "C", "D");
    }
}
