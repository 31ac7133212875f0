package dev.sisma.engine.cuda.internal;

import dev.sisma.engine.gpu.GpuModelTests;

/** The model against the CPU backend and the PyTorch goldens on CUDA (FP32 GEMM): see GpuModelTests. */
class CudaModelTest extends GpuModelTests implements CudaUnderTest {
}
