/* Elementwise kernels: fill, unary (+ backward), affine, broadcasting binary, strided copy, AdamW. */

KERNEL void sk_fill(GLOBAL float *y, long off, long n, float v) {
    long i = GID(0);
    if (i < n) y[off + i] = v;
}

/* Op codes (SK_UNARY_*, SK_BINARY_*, SK_COMPARE_*) come from sk_ops.h, generated from the SPI enums. An
   unknown code gives NaN, so a new enum constant without its case fails every test instead of running another op. */

#define SK_GELU_K 0.7978845608028654f /* sqrt(2/pi) */
#define SK_GELU_C 0.044715f

DEVICE float sk_sigmoid(float x) { return 1.0f / (1.0f + exp(-x)); }

DEVICE float sk_unary(int op, float x) {
    switch (op) {
    case SK_UNARY_NEG: return -x;
    case SK_UNARY_EXP: return exp(x);
    case SK_UNARY_LOG: return log(x);
    case SK_UNARY_SQRT: return sqrt(x);
    case SK_UNARY_RSQRT: return 1.0f / sqrt(x);
    case SK_UNARY_ABS: return fabs(x);
    case SK_UNARY_SIN: return sin(x);
    case SK_UNARY_COS: return cos(x);
    case SK_UNARY_TANH: return tanh(x);
    case SK_UNARY_SIGMOID: return sk_sigmoid(x);
    case SK_UNARY_SILU: return x * sk_sigmoid(x);
    case SK_UNARY_SOFTPLUS: return x > 20.0f ? x : log1p(exp(x));
    case SK_UNARY_GELU_TANH: return 0.5f * x * (1.0f + tanh(SK_GELU_K * (x + SK_GELU_C * x * x * x)));
    case SK_UNARY_RELU: return x > 0.0f ? x : 0.0f;
    case SK_UNARY_SQUARE: return x * x;
    case SK_UNARY_RECIPROCAL: return 1.0f / x;
    default: return NAN;
    }
}

/* f'(x) for the backward pass. */
DEVICE float sk_unary_grad(int op, float x) {
    switch (op) {
    case SK_UNARY_NEG: return -1.0f;
    case SK_UNARY_EXP: return exp(x);
    case SK_UNARY_LOG: return 1.0f / x;
    case SK_UNARY_SQRT: return 0.5f / sqrt(x);
    case SK_UNARY_RSQRT: return -0.5f / (x * sqrt(x));
    case SK_UNARY_ABS: return x > 0.0f ? 1.0f : (x < 0.0f ? -1.0f : 0.0f);
    case SK_UNARY_SIN: return cos(x);
    case SK_UNARY_COS: return -sin(x);
    case SK_UNARY_TANH: { float t = tanh(x); return 1.0f - t * t; }
    case SK_UNARY_SIGMOID: { float s = sk_sigmoid(x); return s * (1.0f - s); }
    case SK_UNARY_SILU: { float s = sk_sigmoid(x); return s * (1.0f + x * (1.0f - s)); }
    case SK_UNARY_SOFTPLUS: return sk_sigmoid(x);
    case SK_UNARY_GELU_TANH: {
        float t = tanh(SK_GELU_K * (x + SK_GELU_C * x * x * x));
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * SK_GELU_K * (1.0f + 3.0f * SK_GELU_C * x * x);
    }
    case SK_UNARY_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case SK_UNARY_SQUARE: return 2.0f * x;
    case SK_UNARY_RECIPROCAL: return -1.0f / (x * x);
    default: return NAN;
    }
}

KERNEL void sk_unary_fwd(int op, GLOBAL const float *x, GLOBAL float *y, long n) {
    long i = GID(0);
    if (i < n) y[i] = sk_unary(op, x[i]);
}

KERNEL void sk_unary_bwd(int op, GLOBAL const float *x, GLOBAL const float *dy, GLOBAL float *dx, long n) {
    long i = GID(0);
    if (i < n) dx[i] = dy[i] * sk_unary_grad(op, x[i]);
}

KERNEL void sk_affine(GLOBAL const float *x, GLOBAL float *y, long n, float alpha, float beta) {
    long i = GID(0);
    if (i < n) y[i] = alpha * x[i] + beta;
}


DEVICE float sk_binary_op(int op, float a, float b) {
    switch (op) {
    case SK_BINARY_ADD: return a + b;
    case SK_BINARY_SUB: return a - b;
    case SK_BINARY_MUL: return a * b;
    case SK_BINARY_DIV: return a / b;
    case SK_BINARY_MAX: return a >= b ? a : b;
    case SK_BINARY_MIN: return a <= b ? a : b;
    case SK_COMPARE_EQ: return a == b ? 1.0f : 0.0f;
    case SK_COMPARE_NE: return a != b ? 1.0f : 0.0f;
    case SK_COMPARE_LT: return a < b ? 1.0f : 0.0f;
    case SK_COMPARE_LE: return a <= b ? 1.0f : 0.0f;
    case SK_COMPARE_GT: return a > b ? 1.0f : 0.0f;
    case SK_COMPARE_GE: return a >= b ? 1.0f : 0.0f;
    default: return NAN;
    }
}

/* out[i] = a[i . sa] op b[i . sb], out contiguous. a or b may be out (each element is read then
   written by the same work-item). */
KERNEL void sk_binary(int op, GLOBAL const float *a, GLOBAL const float *b, GLOBAL float *out, sk_strided_t s) {
    long i = GID(0);
    if (i >= s.count) return;
    long r = i, ia = s.offA, ib = s.offB;
    for (int d = (int) s.rank - 1; d >= 0; d--) {
        long q = r / s.shape[d], k = r - q * s.shape[d];
        ia += k * s.sa[d];
        ib += k * s.sb[d];
        r = q;
    }
    out[s.offO + i] = sk_binary_op(op, a[ia], b[ib]);
}

/* Select's second pass: out[i] = (c[i . sa] != 0) == pick ? x[i . sb] : out[i], out contiguous. The
   host first puts the other operand in out (or out already is it), so only the operand picked is read. */
KERNEL void sk_where(int pick, GLOBAL const float *c, GLOBAL const float *x, GLOBAL float *out, sk_strided_t s) {
    long i = GID(0);
    if (i >= s.count) return;
    long r = i, ic = s.offA, ix = s.offB;
    for (int d = (int) s.rank - 1; d >= 0; d--) {
        long q = r / s.shape[d], k = r - q * s.shape[d];
        ic += k * s.sa[d];
        ix += k * s.sb[d];
        r = q;
    }
    if ((c[ic] != 0.0f) == (pick != 0)) out[s.offO + i] = x[ix];
}

/* dst[offO + i . so] = src[offA + i . sa] */
KERNEL void sk_copy(GLOBAL const float *src, GLOBAL float *dst, sk_strided_t s) {
    long i = GID(0);
    if (i >= s.count) return;
    long r = i, is = s.offA, id = s.offO;
    for (int d = (int) s.rank - 1; d >= 0; d--) {
        long q = r / s.shape[d], k = r - q * s.shape[d];
        is += k * s.sa[d];
        id += k * s.so[d];
        r = q;
    }
    dst[id] = src[is];
}

/* torch.optim.AdamW (amsgrad off); bc1 = 1 - beta1^step, bc2 = 1 - beta2^step from the host. */
KERNEL void sk_adamw(GLOBAL float *p, GLOBAL const float *g, GLOBAL float *m, GLOBAL float *v, long n,
                     float lr, float beta1, float beta2, float eps, float wd, float bc1, float bc2) {
    long i = GID(0);
    if (i >= n) return;
    float pi = p[i], gi = g[i];
    pi = pi - lr * wd * pi;
    float mi = beta1 * m[i] + (1.0f - beta1) * gi;
    float vi = beta2 * v[i] + (1.0f - beta2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] = pi - lr * (mi / bc1) / (sqrt(vi / bc2) + eps);
}
