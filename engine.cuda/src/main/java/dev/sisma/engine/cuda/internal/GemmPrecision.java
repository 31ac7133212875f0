package dev.sisma.engine.cuda.internal;

/**
 * How the CUDA backend multiplies matrices with cuBLAS (PID dev.sisma.engine.cuda, property
 * {@code precision}). Inputs, outputs and accumulation stay FP32 in every mode; only the products
 * change. Without cuBLAS: fp32 runs the sk_gemm kernel, tf32 and bf16 the tensor-core kernels of
 * gemm_tc.cl (sk_gemm_tf32, sk_gemm_bf16).
 */
public enum GemmPrecision {
    /** FP32 products (CUBLAS_COMPUTE_32F): results as the CPU backend's up to summation order. The default; parity tests use it. */
    FP32(68),
    /** TF32 tensor cores (CUBLAS_COMPUTE_32F_FAST_TF32): 10-bit mantissa products, about 1e-3 relative error; PyTorch's allow_tf32. */
    TF32(77),
    /** BF16 tensor cores (CUBLAS_COMPUTE_32F_FAST_16BF): 7-bit mantissa products, about 1e-2 relative error; fastest. */
    BF16(75);

    /** The cublasComputeType_t value. */
    final int computeType;

    GemmPrecision(int computeType) {
        this.computeType = computeType;
    }

    /** fp32, tf32 or bf16 (any case); anything else is a one-line error listing them. */
    public static GemmPrecision parse(String s) {
        for (GemmPrecision p : values()) {
            if (p.name().equalsIgnoreCase(s.strip())) return p;
        }
        throw new IllegalArgumentException("unknown GEMM precision '" + s + "' (PID dev.sisma.engine.cuda, property precision): "
                + "use fp32, tf32 or bf16");
    }
}
