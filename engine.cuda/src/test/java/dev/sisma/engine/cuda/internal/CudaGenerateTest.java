package dev.sisma.engine.cuda.internal;

import dev.sisma.engine.gpu.GpuGenerateTests;

/** {@code ./sisma generate --backend cuda} gives the CPU backend's images for the same seed: see GpuGenerateTests. */
class CudaGenerateTest extends GpuGenerateTests implements CudaUnderTest {
}
