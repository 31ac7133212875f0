package dev.sisma.engine.cuda.internal;

import dev.sisma.engine.gpu.GpuOpCodeTests;

/** An unknown op code gives NaN in the CUDA kernels: see GpuOpCodeTests. */
class CudaOpCodeTest extends GpuOpCodeTests implements CudaUnderTest {
}
