package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Ops;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.DeviceBuffer;

/** The CPU backend recycles freed buffers (BufferPool): what Backend.allocate promises must still hold. */
class BufferRecyclingTest {
    @Test
    void aRecycledBufferIsAllZeros() {
        try (CpuBackend be = new CpuBackend(1)) {
            DeviceBuffer a = be.upload(new float[] {1, 2, 3, 4, 5});
            a.close();
            DeviceBuffer b = be.allocate(5);
            assertEquals(1, be.buffersCreated(), "the second buffer reuses the first one's block");
            float[] got = new float[5];
            be.download(b, 0, got, 0, 5);
            assertArrayEquals(new float[5], got);
            b.close();
        }
    }

    @Test
    void aSteadyLoopCreatesNoBuffersAfterItsFirstIteration() {
        try (CpuBackend be = new CpuBackend(2); NoGrad ng = NoGrad.enter()) {
            Tensor w = Tensor.of(be, new float[] {0.5f, -1, 2, 0.25f, 1, 3}, 2, 3);
            Tensor x = Tensor.of(be, new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}, 3, 3);
            float[] first = null;
            long afterFirst = 0;
            for (int i = 0; i < 4; i++) {
                try (Scope s = Scope.open()) {
                    float[] y = Ops.softmax(Ops.tanh(Ops.matmul(w, x))).toArray();
                    if (first == null) first = y; else assertArrayEquals(first, y);
                }
                if (i == 0) afterFirst = be.buffersCreated();
            }
            assertEquals(afterFirst, be.buffersCreated());
            w.close();
            x.close();
        }
    }

    @Test
    void closingTwiceGivesTheBlockBackOnceAndUseAfterCloseFails() {
        try (CpuBackend be = new CpuBackend(1)) {
            DeviceBuffer a = be.allocate(300);
            a.close();
            a.close();
            DeviceBuffer b = be.allocate(300), c = be.allocate(300);
            assertEquals(2, be.buffersCreated(), "a block given back twice would have served both");
            assertThrows(IllegalStateException.class, () -> be.download(a, 0, new float[1], 0, 1));
            b.close();
            c.close();
        }
    }

    @Test
    void buffersClosedAfterTheBackendAreReleased() {
        CpuBackend be = new CpuBackend(1);
        DeviceBuffer a = be.allocate(10);
        be.close();
        a.close(); // released at once, no error
        assertThrows(IllegalStateException.class, () -> be.download(a, 0, new float[1], 0, 1));
    }
}
