package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Shape;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.UnaryOp;

/**
 * Autograd against finite differences for every differentiable op in {@link Ops}: the loss is
 * sum(f(inputs) * w) for a fixed random w, evaluated in double on the host; float32 central
 * differences with a relative step, so the tolerance is a few 1e-3.
 */
class OpsGradCheckTest {
    private static final CpuBackend BE = new CpuBackend(2);
    private final Random rnd = new Random(7);

    @AfterAll
    static void shutdown() { BE.close(); }

    private Tensor leaf(float lo, float hi, int... shape) {
        float[] v = new float[(int) Shape.of(shape).size()];
        for (int i = 0; i < v.length; i++) v[i] = lo + (hi - lo) * rnd.nextFloat();
        return Tensor.of(BE, v, shape).requiresGrad(true);
    }

    private Tensor leaf(int... shape) { return leaf(-1, 1, shape); }

    private static double loss(Tensor out, float[] w) {
        float[] o = out.toArray();
        double s = 0;
        for (int i = 0; i < o.length; i++) s += (double) o[i] * w[i];
        return s;
    }

    private void check(String name, Function<Tensor[], Tensor> f, Tensor... inputs) {
        try (Scope scope = Scope.open()) {
            Tensor out = f.apply(inputs);
            float[] w = new float[(int) out.size()];
            for (int i = 0; i < w.length; i++) w[i] = rnd.nextFloat() * 2 - 1;
            Tensor loss = Ops.sum(Ops.mul(out, Tensor.of(BE, w, out.shape().dims())));
            assertEquals(loss(out, w), loss.item(), 1e-3 * Math.max(1, Math.abs(loss.item())), name + ": loss");
            loss.backward();
            for (int k = 0; k < inputs.length; k++) {
                if (inputs[k] == null || !inputs[k].requiresGrad()) continue;
                Tensor g = inputs[k].grad();
                assertNotNull(g, name + ": input " + k + " got no gradient");
                float[] ga = g.toArray(), x = inputs[k].toArray();
                int samples = Math.min(x.length, 24);
                for (int s = 0; s < samples; s++) {
                    int j = x.length <= 24 ? s : rnd.nextInt(x.length);
                    float keep = x[j];
                    float h = 1e-2f * Math.max(1, Math.abs(keep));
                    double up, dn;
                    try (NoGrad ng = NoGrad.enter(); Scope inner = Scope.open()) {
                        x[j] = keep + h;
                        up = loss(f.apply(replace(inputs, k, x)), w);
                        x[j] = keep - h;
                        dn = loss(f.apply(replace(inputs, k, x)), w);
                    }
                    x[j] = keep;
                    double num = (up - dn) / (2 * h);
                    if (Math.abs(num - ga[j]) > 5e-3 + 1e-2 * Math.abs(num))
                        fail(name + ": d/d input" + k + "[" + j + "] autograd " + ga[j] + " vs numeric " + num);
                }
                inputs[k].zeroGrad();
            }
        }
    }

    private static Tensor[] replace(Tensor[] in, int k, float[] x) {
        Tensor[] r = in.clone();
        r[k] = Tensor.of(BE, x, in[k].shape().dims());
        return r;
    }

    @Test
    void linearAlgebra() {
        check("matmul shared", t -> Ops.matmul(t[0], t[1]), leaf(2, 3, 5), leaf(5, 4));
        check("matmul batched", t -> Ops.matmul(t[0], t[1]), leaf(2, 3, 5), leaf(2, 5, 4));
        check("linear", t -> Ops.linear(t[0], t[1], t[2]), leaf(2, 3, 5), leaf(4, 5), leaf(4));
        check("linear no bias", t -> Ops.linear(t[0], t[1], null), leaf(3, 5), leaf(4, 5));
    }

    @Test
    void elementwiseWithBroadcasting() {
        check("add", t -> Ops.add(t[0], t[1]), leaf(2, 3, 4), leaf(3, 1));
        check("sub", t -> Ops.sub(t[0], t[1]), leaf(2, 1, 4), leaf(2, 3, 4));
        check("mul", t -> Ops.mul(t[0], t[1]), leaf(2, 3, 4), leaf(4));
        check("div", t -> Ops.div(t[0], t[1]), leaf(2, 3, 4), leaf(0.5f, 2f, 1, 3, 1));
        check("maximum", t -> Ops.maximum(t[0], t[1]), leaf(3, 4), leaf(3, 4));
        check("affine", t -> Ops.affine(t[0], 1.5f, 2f), leaf(3, 4));
        check("same input twice", t -> Ops.mul(t[0], t[0]), leaf(3, 4));
        for (UnaryOp op : UnaryOp.values()) {
            boolean positive = op == UnaryOp.LOG || op == UnaryOp.SQRT || op == UnaryOp.RSQRT || op == UnaryOp.RECIPROCAL;
            if (op == UnaryOp.ABS || op == UnaryOp.RELU) {
                check(op.name(), t -> Ops.unary(op, t[0]), leaf(0.1f, 2f, 3, 4));
                check(op.name() + " negative", t -> Ops.unary(op, t[0]), leaf(-2f, -0.1f, 3, 4));
            } else {
                check(op.name(), t -> Ops.unary(op, t[0]), positive ? leaf(0.5f, 2f, 3, 4) : leaf(-2f, 2f, 3, 4));
            }
        }
    }

    @Test
    void reductionsAndMovement() {
        check("sum axis", t -> Ops.sum(t[0], 1, false), leaf(2, 3, 4));
        check("mean axis keepdim", t -> Ops.mean(t[0], -1, true), leaf(2, 3, 4));
        check("mean all", t -> Ops.mean(t[0]), leaf(2, 3, 4));
        check("reshape", t -> Ops.mul(Ops.reshape(t[0], 6, -1), Ops.reshape(t[0], 6, 4)), leaf(2, 3, 4));
        check("permute", t -> Ops.permute(t[0], 2, 0, 1), leaf(2, 3, 4));
        check("transpose", t -> Ops.transpose(t[0], 0, 1), leaf(2, 3, 4));
        check("slice", t -> Ops.slice(t[0], -1, 1, 3), leaf(2, 3, 4));
        check("chunk", t -> Ops.mul(Ops.chunk(t[0], 2, -1).get(0), Ops.chunk(t[0], 2, -1).get(1)), leaf(2, 3, 4));
        check("split", t -> Ops.split(t[0], 1, 1, 2).get(1), leaf(2, 3, 4));
        check("concat", t -> Ops.concat(1, t[0], t[1]), leaf(2, 3, 4), leaf(2, 2, 4));
        check("gather repeats", t -> Ops.gather(t[0], 1, new int[] {2, 0, 2, 1}), leaf(2, 3, 4));
        check("broadcastTo", t -> Ops.broadcastTo(t[0], Shape.of(2, 3, 4)), leaf(3, 1));
    }

    @Test
    void normalisationsAndConvolutions() {
        check("softmax", t -> Ops.softmax(t[0]), leaf(3, 7));
        check("layerNorm affine", t -> Ops.layerNorm(t[0], t[1], t[2], 1e-6f), leaf(-2f, 2f, 3, 8), leaf(0.5f, 1.5f, 8), leaf(8));
        check("layerNorm plain", t -> Ops.layerNorm(t[0], null, null, 1e-6f), leaf(-2f, 2f, 3, 8));
        check("groupNorm", t -> Ops.groupNorm(t[0], 2, t[1], t[2], 1e-6f), leaf(-2f, 2f, 2, 4, 3, 3), leaf(0.5f, 1.5f, 4), leaf(4));
        check("conv2d", t -> Ops.conv2d(t[0], t[1], t[2], 2, 1), leaf(2, 3, 6, 6), leaf(4, 3, 3, 3), leaf(4));
        check("conv2d patchify", t -> Ops.conv2d(t[0], t[1], t[2], 2, 0), leaf(1, 4, 4, 4), leaf(5, 4, 2, 2), leaf(5));
        check("depthwiseCausalConv1d", t -> Ops.depthwiseCausalConv1d(t[0], t[1], t[2]), leaf(2, 6, 5), leaf(5, 1, 4), leaf(5));
        check("avgPool2d", t -> Ops.avgPool2d(t[0], 2), leaf(1, 2, 4, 6));
        check("upsampleNearest2d", t -> Ops.upsampleNearest2d(t[0], 2), leaf(1, 2, 3, 2));
        check("mseLoss", t -> Ops.mseLoss(t[0], t[1]), leaf(3, 4), leaf(3, 4));
    }

    @Test
    void selectiveScan() {
        check("selectiveScan", t -> Ops.selectiveScan(t[0], t[1], t[2], t[3], t[4], t[5]),
                leaf(2, 5, 3), leaf(0.05f, 0.5f, 2, 5, 3), leaf(-2f, -0.2f, 3, 4), leaf(2, 5, 4), leaf(2, 5, 4), leaf(3));
        // the Mamba composition: delta = softplus(x W^T + b), A = -exp(A_log)
        check("mamba delta path", t -> Ops.selectiveScan(t[0], Ops.softplus(Ops.linear(t[1], t[2], t[3])),
                        Ops.neg(Ops.exp(t[4])), t[5], t[5], null),
                leaf(1, 4, 3), leaf(1, 4, 2), leaf(3, 2), leaf(3), leaf(-1f, 0.5f, 3, 2), leaf(1, 4, 2));
    }
}
