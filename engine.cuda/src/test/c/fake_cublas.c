/*
 * A stand-in for libcublas with the four entry points Cublas.java binds, for CublasBindingTest on a
 * machine without a GPU: "device" pointers are host pointers, and cublasGemmStridedBatchedEx is the
 * column-major definition from the cuBLAS documentation, in double:
 *   C_p = alpha op(A_p) op(B_p) + beta C_p,  op(A_p) m x k,  op(B_p) k x n,  C_p m x n (ldc),
 *   A_p = A + p strideA (elements), element (i, j) of a matrix X with leading dimension ld at X[i + j ld].
 * It records the last call's compute type and stream, so the test can check them too.
 */
#include <stdint.h>
#include <stdlib.h>

typedef struct { void *stream; } fake_handle;
static int last_compute_type = -1;
static void *last_stream = 0;

int cublasCreate_v2(fake_handle **handle) {
    *handle = calloc(1, sizeof(fake_handle));
    return *handle ? 0 : 3;
}

int cublasSetStream_v2(fake_handle *handle, void *stream) {
    handle->stream = stream;
    return 0;
}

int cublasDestroy_v2(fake_handle *handle) {
    free(handle);
    return 0;
}

int fake_last_compute_type(void) { return last_compute_type; }
void *fake_last_stream(void) { return last_stream; }

static float at(const float *x, int ld, int trans, int i, int j) {
    return trans ? x[j + (long) i * ld] : x[i + (long) j * ld];
}

int cublasGemmStridedBatchedEx(fake_handle *handle, int transa, int transb, int m, int n, int k, const void *alpha,
                               const void *A, int Atype, int lda, long long strideA, const void *B, int Btype, int ldb,
                               long long strideB, const void *beta, void *C, int Ctype, int ldc, long long strideC,
                               int batchCount, int computeType, int algo) {
    if (Atype != 0 || Btype != 0 || Ctype != 0 || algo != -1) return 7; /* CUBLAS_STATUS_INVALID_VALUE: only R_32F, default algo */
    if (lda < (transa ? k : m) || ldb < (transb ? n : k) || ldc < m) return 7;
    last_compute_type = computeType;
    last_stream = handle->stream;
    float al = *(const float *) alpha, be = *(const float *) beta;
    for (int p = 0; p < batchCount; p++) {
        const float *a = (const float *) A + p * strideA, *b = (const float *) B + p * strideB;
        float *c = (float *) C + p * strideC;
        for (int j = 0; j < n; j++) {
            for (int i = 0; i < m; i++) {
                double s = 0;
                for (int l = 0; l < k; l++) s += (double) at(a, lda, transa, i, l) * at(b, ldb, transb, l, j);
                float *ci = &c[i + (long) j * ldc];
                *ci = (float) (al * s + (be == 0 ? 0 : be * *ci));
            }
        }
    }
    return 0;
}
