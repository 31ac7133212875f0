package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;

class TensorLifecycleTest {
    private static final CpuBackend BE = new CpuBackend(2);

    @AfterAll
    static void shutdown() { BE.close(); }

    @Test
    void scopeClosesWhatItCreatedExceptKept() {
        Tensor outside = Tensor.of(BE, new float[] {1, 2}, 2);
        Tensor kept, dropped, view;
        try (Scope s = Scope.open()) {
            dropped = outside.add(outside);
            view = dropped.reshape(1, 2);
            kept = s.keep(Ops.mul(outside, outside));
        }
        assertTrue(dropped.isClosed());
        assertTrue(view.isClosed());
        assertFalse(kept.isClosed());
        assertFalse(outside.isClosed());
        assertArrayEquals(new float[] {1, 4}, kept.toArray());
        assertThrows(IllegalStateException.class, dropped::toArray);
        kept.close();
        outside.close();
    }

    @Test
    void nestedScopesKeepIntoTheParent() {
        Tensor a = Tensor.of(BE, new float[] {3}, 1);
        Tensor inner;
        try (Scope outer = Scope.open()) {
            try (Scope in = Scope.open()) {
                inner = in.keep(a.add(a));
            }
            assertFalse(inner.isClosed());
        }
        assertTrue(inner.isClosed());
        a.close();
    }

    @Test
    void viewsShareMemoryUntilTheLastCloses() {
        Tensor a = Tensor.of(BE, new float[] {1, 2, 3, 4}, 2, 2);
        Tensor v = a.reshape(4);
        a.close();
        assertArrayEquals(new float[] {1, 2, 3, 4}, v.toArray());
        v.close();
    }

    @Test
    void noGradRecordsNothing() {
        Tensor w = Tensor.of(BE, new float[] {1, 2}, 2).requiresGrad(true);
        try (NoGrad ng = NoGrad.enter()) {
            Tensor y = w.mul(w);
            assertFalse(y.requiresGrad());
            y.close();
        }
        Tensor y = w.mul(w);
        assertTrue(y.requiresGrad());
        y.close();
        w.close();
    }

    @Test
    void gradientsAccumulateAcrossBackwardCallsAndLiveOutsideScopes() {
        Tensor w = Tensor.of(BE, new float[] {1, 2, 3}, 3).requiresGrad(true);
        for (int i = 0; i < 2; i++) {
            try (Scope s = Scope.open()) {
                Ops.sum(Ops.square(w)).backward();
            }
        }
        assertArrayEquals(new float[] {4, 8, 12}, w.grad().toArray());
        w.zeroGrad();
        assertNull(w.grad());
        w.close();
    }

    @Test
    void badShapesGetOneClearMessage() {
        try (Scope s = Scope.open()) {
            Tensor a = Tensor.zeros(BE, 2, 3), b = Tensor.zeros(BE, 4, 5);
            var e = assertThrows(IllegalArgumentException.class, () -> Ops.matmul(a, b));
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.add(a, b));
            assertTrue(e.getMessage().contains("broadcast"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> Ops.reshape(a, 5));
            assertEquals(List.of(3, 3), Ops.chunk(Tensor.zeros(BE, 6), 2, 0).stream().map(t -> t.dim(0)).toList());
        }
    }

    @Test
    void seededRandomTensorsRepeat() {
        try (Scope s = Scope.open()) {
            assertArrayEquals(Tensor.randn(BE, 42, 10, 5).toArray(), Tensor.randn(BE, 42, 10, 5).toArray());
            float[] a = Tensor.rand(BE, 42, 0, 6).toArray(), b = Tensor.rand(BE, 42, 3, 3).toArray();
            assertArrayEquals(new float[] {a[3], a[4], a[5]}, b); // offset addresses the same stream
        }
    }
}
