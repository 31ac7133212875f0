package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;

/** {@link Tensor#free()}: frees an activation at once, but never what autograd may still read. */
class TensorFreeTest {
    private static final CpuBackend BE = new CpuBackend(2);

    @AfterAll
    static void shutdown() { BE.close(); }

    @Test
    void withoutATapeAnActivationIsFreedAtOnceAndItsViewsKeepTheMemory() {
        try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            Tensor w = Tensor.of(BE, new float[] {1, 2, 3}, 3).requiresGrad(true);
            Tensor a = Ops.mul(w, w);
            Tensor view = a.reshape(1, 3);
            Tensor b = Ops.add(a, w);
            assertTrue(a.free());
            assertTrue(a.isClosed());
            assertArrayEquals(new float[] {1, 4, 9}, view.toArray(), "a view shares the storage, which lives while it does");
            assertArrayEquals(new float[] {2, 6, 12}, b.toArray());
            assertFalse(w.free(), "a leaf that wants a gradient stays");
            assertFalse(w.isClosed());
        }
    }

    @Test
    void withATapeWhatTheBackwardReadsStays() {
        try (Scope s = Scope.open()) {
            Tensor w = Tensor.of(BE, new float[] {1, 2, 3}, 3).requiresGrad(true);
            Tensor x = Tensor.of(BE, new float[] {4, 5, 6}, 3);    // no gradient, but mul's backward reads it
            Tensor y = Ops.mul(w, x);
            Tensor loss = Ops.sum(y);
            assertFalse(x.free(), "an input of a recorded op");
            assertFalse(y.free(), "a result on the tape");
            Tensor unused = Ops.add(x, x);                          // no input wants a gradient: not recorded
            assertTrue(unused.free());
            loss.backward();
            assertArrayEquals(new float[] {4, 5, 6}, w.grad().toArray());
            w.zeroGrad();
        }
    }
}
