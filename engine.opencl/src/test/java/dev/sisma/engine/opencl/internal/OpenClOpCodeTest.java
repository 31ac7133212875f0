package dev.sisma.engine.opencl.internal;

import dev.sisma.engine.gpu.GpuOpCodeTests;

/** An unknown op code gives NaN in the OpenCL kernels: see GpuOpCodeTests. */
class OpenClOpCodeTest extends GpuOpCodeTests implements OpenClUnderTest {
}
