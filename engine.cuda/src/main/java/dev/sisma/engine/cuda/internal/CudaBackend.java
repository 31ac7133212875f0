package dev.sisma.engine.cuda.internal;

import jcuda.driver.CUdeviceptr;

import dev.sisma.engine.gpu.GpuBackend;
import dev.sisma.engine.gpu.GpuBuffer;
import dev.sisma.engine.spi.BinaryOp;

/**
 * The SPI on one CUDA device: {@link GpuBackend} (shared with the OpenCL backend) over a
 * {@link CuRuntime}. What is CUDA's own here: opening a device by ordinal, the names {@code cuda} /
 * {@code cuda:N}, and GEMM through cuBLAS when its library is found ({@link Cublas}, at the
 * configured {@link GemmPrecision}), else on the kernels: the shared FP32 sk_gemm, or at tf32 / bf16
 * the tensor-core sk_gemm_tf32 / sk_gemm_bf16 (gemm_tc.cl).
 */
public final class CudaBackend extends GpuBackend<CUdeviceptr> {
    private final CuRuntime rt;
    private final Cublas cublas;
    private final GemmPrecision precision;
    /** Why GEMM does not use cuBLAS (null when it does). */
    private final String noCublas;

    CudaBackend(CuRuntime rt, String name, GemmPrecision precision, String cublasDir) {
        super(rt, name);
        this.rt = rt;
        this.precision = precision;
        Cublas.Location where = Cublas.find(cublasDir);
        Cublas c = null;
        String why = where.why();
        if (where.library() != null) {
            try {
                Cublas[] made = new Cublas[1];
                rt.onStream(() -> made[0] = new Cublas(where.library(), rt.stream.handle()));
                c = made[0];
            } catch (RuntimeException | LinkageError e) {
                why = where.library() + " did not load (" + e.getMessage() + "); GEMM runs on the kernels";
            }
        }
        this.cublas = c;
        this.noCublas = why;
    }

    /**
     * Opens device {@code ordinal} as {@code cuda} (or, with {@code qualified}, as {@code cuda:N})
     * with the kernels this bundle carries.
     */
    public static CudaBackend open(int ordinal, boolean qualified, GemmPrecision precision, String cublasDir)
            throws CuRuntime.Unavailable {
        return new CudaBackend(CuRuntime.open(ordinal, KernelBinary.load()), qualified ? qualifiedName(ordinal) : "cuda",
                precision, cublasDir);
    }

    /** The name a device answers to whether or not it is the default: {@code cuda:N}. */
    public static String qualifiedName(int ordinal) {
        return "cuda:" + ordinal;
    }

    /** {@code cuda:N} of this device. */
    public String qualifiedName() {
        return qualifiedName(rt.info.ordinal());
    }

    CuRuntime runtime() {
        return rt;
    }

    /** True when GEMM runs on cuBLAS. */
    public boolean usesCublas() {
        return cublas != null;
    }

    @Override
    public String device() {
        String p = precision.name().toLowerCase(java.util.Locale.ROOT);
        return rt.info + ", GEMM " + (cublas != null ? "cuBLAS " + p + " (" + cublas.library.getFileName() + ")"
                : (precision == GemmPrecision.FP32 ? "sk_gemm fp32" : "sk_gemm_" + p + " tensor cores") + " (" + noCublas + ")");
    }

    @Override
    protected void gemmRaw(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, GpuBuffer<CUdeviceptr> a,
                           long strideA, GpuBuffer<CUdeviceptr> b, long strideB, float beta, GpuBuffer<CUdeviceptr> c,
                           GpuBuffer<CUdeviceptr> bias) {
        if (cublas == null) {
            if (precision == GemmPrecision.FP32) {
                super.gemmRaw(transA, transB, batch, m, n, k, alpha, a, strideA, b, strideB, beta, c, bias);
            } else {
                // gemm_tc.cl: 4 warps per 64 x 64 tile of C
                rt.launch(precision == GemmPrecision.TF32 ? "sk_gemm_tf32" : "sk_gemm_bf16",
                        new long[] {(n + 63) / 64 * 128L, (m + 63) / 64, batch}, new long[] {128, 1, 1},
                        transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, strideA, b, strideB, beta, c,
                        bias == null ? a : bias, bias == null ? 0 : 1);
            }
            return;
        }
        long pa = address(a), pb = address(b), pc = address(c);
        rt.onStream(() -> cublas.sgemm(transA, transB, batch, m, n, k, alpha, pa, strideA, pb, strideB, beta, pc, precision));
        if (bias != null) {
            // cuBLAS has no bias: one broadcasting add over the rows, queued next on the same stream
            binary(BinaryOp.ADD, c, new long[] {n, 1}, bias, new long[] {0, 1}, c, new int[] {batch * m, n});
        }
    }

    private static long address(GpuBuffer<CUdeviceptr> b) {
        return ((CuRuntime.DevPtr) b.mem()).address();
    }

    @Override
    public void close() {
        if (cublas != null) rt.onStream(cublas::close);
        super.close();
    }
}
