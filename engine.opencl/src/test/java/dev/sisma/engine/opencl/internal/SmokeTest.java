package dev.sisma.engine.opencl.internal;

import static org.junit.jupiter.api.Assertions.*;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.Philox;

class SmokeTest {
    @Test
    void opens() throws Exception {
        long t0 = System.nanoTime();
        try (OpenClBackend b = OpenClBackend.open(-1, -1)) {
            System.out.println(b.device() + " opened in " + (System.nanoTime() - t0) / 1e6 + " ms");
            DeviceBuffer r = b.allocate(1000);
            b.randomUniform(r, 1000, 42, 7);
            float[] out = new float[1000];
            b.download(r, 0, out, 0, 1000);
            for (int i = 0; i < 1000; i++) assertEquals(Philox.uniformAt(42, 7, i), out[i]);
        }
    }
}
