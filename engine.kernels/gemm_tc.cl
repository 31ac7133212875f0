/* Batched GEMM on tensor cores, CUDA only (OpenCL has no portable matrix instructions; its GEMM is
 * sk_gemm): C_p = alpha op(A_p) op(B_p) + beta C_p + bias, FP32 in and out, products in TF32
 * (sk_gemm_tf32, WMMA m16n16k8) or BF16 (sk_gemm_bf16, m16n16k16), accumulation in FP32. The CUDA
 * backend runs these at precision tf32 / bf16 when no libcublas is found; cuBLAS is faster.
 *
 * A block of 4 warps computes a 64 x 64 tile of C, each warp 32 x 32 (2 x 2 fragments). K advances
 * in slices of 16 staged in shared memory with the same transpose-aware, zero-padded loads as
 * sk_gemm (sk_gemm_at) (converted to bf16 on the way in for sk_gemm_bf16); the tile goes through shared memory
 * on the way out so the edges, alpha, beta and the bias are applied per element.
 * Launch: block (128, 1, 1), grid (ceil(N/64), ceil(M/64), batch).
 */
#ifndef __OPENCL_VERSION__

#define SK_TC_T 64      /* tile side */
#define SK_TC_K 16      /* K slice */
#define SK_TC_AP 4      /* row padding of the float tiles (keeps fragment rows 32-byte aligned) */
#define SK_TC_HP 8      /* row padding of the bf16 tiles */

template <typename T> DEVICE T sk_tc_in(float v);
template <> __device__ inline float sk_tc_in<float>(float v) { return v; }
template <> __device__ inline __nv_bfloat16 sk_tc_in<__nv_bfloat16>(float v) { return __float2bfloat16_rn(v); }

/* A fragment element as the tensor cores take it: fp32 rounded to tf32; bf16 as it is. */
DEVICE float sk_tc_round(float x) { return nvcuda::wmma::__float_to_tf32(x); }
DEVICE __nv_bfloat16 sk_tc_round(__nv_bfloat16 x) { return x; }

/* T: the element type staged in shared memory (float for tf32, __nv_bfloat16); FK: fragment K. */
template <typename T, typename FT, int FK, int PAD>
DEVICE void sk_gemm_tc(int transA, int transB, int M, int N, int K, float alpha,
                       const float *A, long strideA, const float *B, long strideB,
                       float beta, float *C, const float *bias, int hasBias) {
    using namespace nvcuda;
    __shared__ __align__(32) T As[SK_TC_T][SK_TC_K + PAD];
    __shared__ __align__(32) T Bs[SK_TC_K][SK_TC_T + PAD];
    __shared__ __align__(32) float Cs[SK_TC_T][SK_TC_T + SK_TC_AP];
    int tid = LID(0), warp = tid / 32, wm = warp / 2, wn = warp % 2;
    long p = GRP(2);
    int m0 = (int) GRP(1) * SK_TC_T, n0 = (int) GRP(0) * SK_TC_T;
    A += p * strideA;
    B += p * strideB;
    C += p * (long) M * N;

    wmma::fragment<wmma::accumulator, 16, 16, FK, float> acc[2][2];
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) wmma::fill_fragment(acc[i][j], 0.0f);

    for (int k0 = 0; k0 < K; k0 += SK_TC_K) {
        for (int l = tid; l < SK_TC_T * SK_TC_K; l += 128) {
            int i, kk;
            if (transA) { i = l % SK_TC_T; kk = l / SK_TC_T; } else { kk = l % SK_TC_K; i = l / SK_TC_K; }
            As[i][kk] = sk_tc_in<T>(sk_gemm_at(A, transA, M, K, m0 + i, k0 + kk));
        }
        for (int l = tid; l < SK_TC_T * SK_TC_K; l += 128) {
            int j, kk;
            if (transB) { kk = l % SK_TC_K; j = l / SK_TC_K; } else { j = l % SK_TC_T; kk = l / SK_TC_T; }
            Bs[kk][j] = sk_tc_in<T>(sk_gemm_at(B, !transB, N, K, n0 + j, k0 + kk));
        }
        BARRIER();
        SK_UNROLL for (int kk = 0; kk < SK_TC_K; kk += FK) {
            wmma::fragment<wmma::matrix_a, 16, 16, FK, FT, wmma::row_major> a[2];
            wmma::fragment<wmma::matrix_b, 16, 16, FK, FT, wmma::row_major> b[2];
            for (int i = 0; i < 2; i++) {
                wmma::load_matrix_sync(a[i], &As[wm * 32 + i * 16][kk], SK_TC_K + PAD);
                for (int t = 0; t < a[i].num_elements; t++) a[i].x[t] = sk_tc_round(a[i].x[t]);
            }
            for (int j = 0; j < 2; j++) {
                wmma::load_matrix_sync(b[j], &Bs[kk][wn * 32 + j * 16], SK_TC_T + PAD);
                for (int t = 0; t < b[j].num_elements; t++) b[j].x[t] = sk_tc_round(b[j].x[t]);
            }
            for (int i = 0; i < 2; i++)
                for (int j = 0; j < 2; j++) wmma::mma_sync(acc[i][j], a[i], b[j], acc[i][j]);
        }
        BARRIER();
    }

    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            wmma::store_matrix_sync(&Cs[wm * 32 + i * 16][wn * 32 + j * 16], acc[i][j], SK_TC_T + SK_TC_AP, wmma::mem_row_major);
    BARRIER();
    for (int l = tid; l < SK_TC_T * SK_TC_T; l += 128) {
        int i = l / SK_TC_T, j = l % SK_TC_T, gm = m0 + i, gn = n0 + j;
        if (gm >= M || gn >= N) continue;
        sk_gemm_store(C, (long) gm * N + gn, gn, alpha * Cs[i][j], beta, bias, hasBias);
    }
}

#define SK_GEMM_PARAMS int transA, int transB, int M, int N, int K, float alpha, const float *A, long strideA, \
        const float *B, long strideB, float beta, float *C, const float *bias, int hasBias
#define SK_GEMM_ARGS transA, transB, M, N, K, alpha, A, strideA, B, strideB, beta, C, bias, hasBias

KERNEL void sk_gemm_tf32(SK_GEMM_PARAMS) {
    sk_gemm_tc<float, nvcuda::wmma::precision::tf32, 8, SK_TC_AP>(SK_GEMM_ARGS);
}

KERNEL void sk_gemm_bf16(SK_GEMM_PARAMS) {
    sk_gemm_tc<__nv_bfloat16, __nv_bfloat16, 16, SK_TC_HP>(SK_GEMM_ARGS);
}

#endif
