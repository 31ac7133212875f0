/* Batched GEMM, tiled through work-group memory: C_p = alpha op(A_p) op(B_p) + beta C_p + bias.
 *
 * A work-group of 16 x 16 work-items computes a 64 x 64 tile of C; each work-item a 4 x 4 block
 * (rows ty + 16 i, columns tx + 16 j, so neighbouring work-items touch neighbouring columns).
 * K advances in slices of 16 staged in local memory; loads are laid out so consecutive work-items
 * read consecutive addresses for either transpose. Edges load zeros and skip the store.
 * Launch: local (16, 16, 1), global (ceil(N/64)*16, ceil(M/64)*16, batch).
 */
#define SK_TM 64
#define SK_TN 64
#define SK_TK 16
#define SK_RT 16 /* work-items per tile side */
#define SK_WPT 4 /* results per work-item per side */

/* Element (r, k) of an R x K operand stored as X (R x K row-major, or K x R when trans); 0 outside,
 * so edge tiles multiply zeros. A: sk_gemm_at(A, transA, M, K, ...); B enters as op(B)^T, N x K. */
DEVICE float sk_gemm_at(GLOBAL const float *X, int trans, int R, int K, int r, int k) {
    if (r >= R || k >= K) return 0.0f;
    return trans ? X[(long) k * R + r] : X[(long) r * K + k];
}

/* C[at] = ab + beta C[at] + bias[col]; beta == 0: C is not read (NaN-safe). */
DEVICE void sk_gemm_store(GLOBAL float *C, long at, int col, float ab, float beta, GLOBAL const float *bias, int hasBias) {
    float v = ab;
    if (beta != 0.0f) v += beta * C[at];
    if (hasBias) v += bias[col];
    C[at] = v;
}

KERNEL void sk_gemm(int transA, int transB, int M, int N, int K, float alpha,
                    GLOBAL const float *A, long strideA, GLOBAL const float *B, long strideB,
                    float beta, GLOBAL float *C, GLOBAL const float *bias, int hasBias) {
    LOCAL float As[SK_TK][SK_TM];
    LOCAL float Bs[SK_TK][SK_TN];
    int tx = LID(0), ty = LID(1);
    int tid = ty * SK_RT + tx;
    long p = GRP(2);
    int m0 = (int) GRP(1) * SK_TM, n0 = (int) GRP(0) * SK_TN;
    A += p * strideA;
    B += p * strideB;
    C += p * (long) M * N;

    float acc[SK_WPT][SK_WPT];
    for (int i = 0; i < SK_WPT; i++)
        for (int j = 0; j < SK_WPT; j++) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += SK_TK) {
        for (int l = tid; l < SK_TM * SK_TK; l += SK_RT * SK_RT) {
            int i, kk;
            if (transA) { i = l % SK_TM; kk = l / SK_TM; } else { kk = l % SK_TK; i = l / SK_TK; }
            As[kk][i] = sk_gemm_at(A, transA, M, K, m0 + i, k0 + kk);
        }
        for (int l = tid; l < SK_TN * SK_TK; l += SK_RT * SK_RT) {
            int j, kk;
            if (transB) { kk = l % SK_TK; j = l / SK_TK; } else { j = l % SK_TN; kk = l / SK_TN; }
            Bs[kk][j] = sk_gemm_at(B, !transB, N, K, n0 + j, k0 + kk);
        }
        BARRIER();
        for (int kk = 0; kk < SK_TK; kk++) {
            float ar[SK_WPT], br[SK_WPT];
            for (int i = 0; i < SK_WPT; i++) ar[i] = As[kk][ty + i * SK_RT];
            for (int j = 0; j < SK_WPT; j++) br[j] = Bs[kk][tx + j * SK_RT];
            for (int i = 0; i < SK_WPT; i++)
                for (int j = 0; j < SK_WPT; j++) acc[i][j] = fma(ar[i], br[j], acc[i][j]);
        }
        BARRIER();
    }

    for (int i = 0; i < SK_WPT; i++) {
        int gm = m0 + ty + i * SK_RT;
        if (gm >= M) continue;
        for (int j = 0; j < SK_WPT; j++) {
            int gn = n0 + tx + j * SK_RT;
            if (gn >= N) continue;
            sk_gemm_store(C, (long) gm * N + gn, gn, alpha * acc[i][j], beta, bias, hasBias);
        }
    }
}
