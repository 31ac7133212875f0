package dev.sisma.engine.opencl.internal;

import dev.sisma.engine.gpu.GpuModelTests;

/** The model against the CPU backend and the PyTorch goldens on OpenCL (PoCL in CI): see GpuModelTests. */
class OpenClModelTest extends GpuModelTests implements OpenClUnderTest {
}
