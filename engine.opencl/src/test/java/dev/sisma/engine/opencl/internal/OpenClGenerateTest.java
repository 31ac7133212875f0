package dev.sisma.engine.opencl.internal;

import dev.sisma.engine.gpu.GpuGenerateTests;

/** {@code ./sisma generate --backend opencl} gives the CPU backend's images for the same seed: see GpuGenerateTests. */
class OpenClGenerateTest extends GpuGenerateTests implements OpenClUnderTest {
}
