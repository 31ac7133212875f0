package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;

/**
 * The attention the baseline model uses ({@link Ops#attention}) on the CPU backend's own GEMM and
 * softmax, at a size where one head's scores (2304 x 2048) exceed a slice, so the query rows are
 * processed in two chunks (2048 + 256): output and q, k, v gradients equal the composed path
 * softmax(q k^T scale) v. The goldens cover the one-slice case at model scale.
 */
class AttentionSlicingTest {
    static CpuBackend be;

    @BeforeAll
    static void start() { be = new CpuBackend(2); }

    @AfterAll
    static void stop() { be.close(); }

    private static Tensor leaf(Random rnd, int... shape) {
        float[] v = new float[(int) dev.sisma.engine.Shape.of(shape).size()];
        for (int i = 0; i < v.length; i++) v[i] = (float) rnd.nextGaussian();
        return Tensor.of(be, v, shape).requiresGrad(true);
    }

    @Test
    void rowChunkedAttentionEqualsTheComposedPath() {
        Random rnd = new Random(3);
        int l = 2304, s = 2048, dh = 16;
        float scale = 0.25f;
        try (Scope scope = Scope.open()) {
            Tensor q = leaf(rnd, 1, 1, l, dh), k = leaf(rnd, 1, 1, s, dh), v = leaf(rnd, 1, 1, s, dh);
            float[] w = new float[l * dh];
            for (int i = 0; i < w.length; i++) w[i] = (float) rnd.nextGaussian();
            Tensor wt = Tensor.of(be, w, 1, 1, l, dh);

            Tensor ref = Ops.matmul(Ops.softmax(Ops.matmul(q, Ops.transpose(k, -2, -1)).mul(scale)), v);
            Ops.sum(Ops.mul(ref, wt)).backward();
            float[][] want = {ref.toArray(), q.grad().toArray(), k.grad().toArray(), v.grad().toArray()};
            q.zeroGrad(); k.zeroGrad(); v.zeroGrad();

            Tensor out = Ops.attention(q, k, v, scale);
            Ops.sum(Ops.mul(out, wt)).backward();
            float[][] got = {out.toArray(), q.grad().toArray(), k.grad().toArray(), v.grad().toArray()};
            String[] names = {"output", "dq", "dk", "dv"};
            for (int t = 0; t < 4; t++) {
                double max = 0, diff = 0;
                for (int i = 0; i < want[t].length; i++) {
                    max = Math.max(max, Math.abs(want[t][i]));
                    diff = Math.max(diff, Math.abs(want[t][i] - got[t][i]));
                }
                assertTrue(diff <= 1e-4 * max, names[t] + ": max difference " + diff + " of max " + max);
            }
        }
    }
}
