/* Reductions, softmax, LayerNorm and GroupNorm (forward and backward).
 * Row kernels run one work-group of SK_WG work-items per row and reduce through local memory;
 * column sums (dgamma, dbeta) loop over rows in one work-item per column: deterministic, no atomics. */

/* op: SK_REDUCE_SUM, _MEAN or _MAX (sk_ops.h). The result of acc over n values; an unknown op code
   gives NaN (see elementwise.cl). */
DEVICE float sk_reduce_result(int op, float acc, int n) {
    switch (op) {
    case SK_REDUCE_SUM: return acc;
    case SK_REDUCE_MAX: return acc;
    case SK_REDUCE_MEAN: return acc / (float) n;
    default: return NAN;
    }
}

/* y[o, i] = op_j x[o, j, i]; one work-item per (o, i). */
KERNEL void sk_reduce(int op, GLOBAL const float *x, GLOBAL float *y, int outer, int axis, int inner) {
    long g = GID(0);
    if (g >= (long) outer * inner) return;
    long o = g / inner, i = g - o * inner;
    GLOBAL const float *p = x + o * axis * (long) inner + i;
    float acc = op == SK_REDUCE_MAX ? -INFINITY : 0.0f;
    for (int j = 0; j < axis; j++) {
        float v = p[(long) j * inner];
        acc = op == SK_REDUCE_MAX ? fmax(acc, v) : acc + v;
    }
    y[g] = sk_reduce_result(op, acc, axis);
}

/* The same with inner == 1: one work-group per row (long rows reduce in parallel). */
KERNEL void sk_reduce_rows(int op, GLOBAL const float *x, GLOBAL float *y, int cols) {
    LOCAL float s[SK_WG];
    long r = GRP(0);
    GLOBAL const float *p = x + r * cols;
    float acc = op == SK_REDUCE_MAX ? -INFINITY : 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) acc = op == SK_REDUCE_MAX ? fmax(acc, p[j]) : acc + p[j];
    acc = op == SK_REDUCE_MAX ? sk_wg_max(s, acc) : sk_wg_sum(s, acc);
    if (LID(0) == 0) y[r] = sk_reduce_result(op, acc, cols);
}

/* y[t, n] = sum_e w[t, e] * x[t, n, e] for t < rows (the scan's dC: dy times the saved states). */
KERNEL void sk_weighted_rows(GLOBAL const float *w, GLOBAL const float *x, GLOBAL float *y, int n, int e) {
    LOCAL float s[SK_WG];
    long r = GRP(0);          /* r = t * n + k */
    long t = r / n;
    GLOBAL const float *px = x + r * e;
    GLOBAL const float *pw = w + t * e;
    float acc = 0.0f;
    for (int j = LID(0); j < e; j += SK_WG) acc += pw[j] * px[j];
    acc = sk_wg_sum(s, acc);
    if (LID(0) == 0) y[r] = acc;
}

KERNEL void sk_softmax(GLOBAL const float *x, GLOBAL float *y, int cols) {
    LOCAL float s[SK_WG];
    long r = GRP(0);
    GLOBAL const float *px = x + r * cols;
    GLOBAL float *py = y + r * cols;
    float mx = -INFINITY;
    for (int j = LID(0); j < cols; j += SK_WG) mx = fmax(mx, px[j]);
    mx = sk_wg_max(s, mx);
    float sum = 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) {
        float e = exp(px[j] - mx);
        py[j] = e; /* same work-item rewrites the same j below: safe in place */
        sum += e;
    }
    sum = sk_wg_sum(s, sum);
    float inv = 1.0f / sum;
    for (int j = LID(0); j < cols; j += SK_WG) py[j] *= inv;
}

KERNEL void sk_softmax_bwd(GLOBAL const float *y, GLOBAL const float *dy, GLOBAL float *dx, int cols) {
    LOCAL float s[SK_WG];
    long r = GRP(0);
    long base = r * cols;
    float dot = 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) dot += dy[base + j] * y[base + j];
    dot = sk_wg_sum(s, dot);
    for (int j = LID(0); j < cols; j += SK_WG) dx[base + j] = y[base + j] * (dy[base + j] - dot);
}

KERNEL void sk_layernorm(GLOBAL const float *x, GLOBAL const float *gamma, GLOBAL const float *beta,
                         int affine, GLOBAL float *y, GLOBAL float *mean, GLOBAL float *rstd, int cols, float eps) {
    LOCAL float s[SK_WG];
    long r = GRP(0);
    GLOBAL const float *px = x + r * cols;
    float sum = 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) sum += px[j];
    float mu = sk_wg_sum(s, sum) / (float) cols;
    float sq = 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) { float d = px[j] - mu; sq += d * d; }
    float rs = 1.0f / sqrt(sk_wg_sum(s, sq) / (float) cols + eps);
    for (int j = LID(0); j < cols; j += SK_WG) {
        float v = (px[j] - mu) * rs;
        if (affine) v = v * gamma[j] + beta[j];
        y[r * cols + j] = v;
    }
    if (LID(0) == 0) { mean[r] = mu; rstd[r] = rs; }
}

KERNEL void sk_layernorm_bwd(GLOBAL const float *x, GLOBAL const float *gamma, int affine,
                             GLOBAL const float *mean, GLOBAL const float *rstd, GLOBAL const float *dy,
                             GLOBAL float *dx, int cols) {
    LOCAL float s[SK_WG];
    long r = GRP(0);
    long base = r * cols;
    float mu = mean[r], rs = rstd[r];
    float s1 = 0.0f, s2 = 0.0f;
    for (int j = LID(0); j < cols; j += SK_WG) {
        float g = affine ? dy[base + j] * gamma[j] : dy[base + j];
        s1 += g;
        s2 += g * (x[base + j] - mu) * rs;
    }
    s1 = sk_wg_sum(s, s1) / (float) cols;
    s2 = sk_wg_sum(s, s2) / (float) cols;
    for (int j = LID(0); j < cols; j += SK_WG) {
        float g = affine ? dy[base + j] * gamma[j] : dy[base + j];
        float xh = (x[base + j] - mu) * rs;
        dx[base + j] = rs * (g - s1 - xh * s2);
    }
}

/* dgamma[j] = sum_r dy * xhat, dbeta[j] = sum_r dy; one work-item per column. */
KERNEL void sk_layernorm_dparams(GLOBAL const float *x, GLOBAL const float *mean, GLOBAL const float *rstd,
                                 GLOBAL const float *dy, GLOBAL float *dgamma, int wantGamma,
                                 GLOBAL float *dbeta, int wantBeta, int rows, int cols) {
    long j = GID(0);
    if (j >= cols) return;
    float sg = 0.0f, sb = 0.0f;
    for (int r = 0; r < rows; r++) {
        long at = (long) r * cols + j;
        float d = dy[at];
        sg += d * (x[at] - mean[r]) * rstd[r];
        sb += d;
    }
    if (wantGamma) dgamma[j] = sg;
    if (wantBeta) dbeta[j] = sb;
}

/* One work-group per (n, group): the group's cpg channels are contiguous, cpg * hw values. */
KERNEL void sk_groupnorm(GLOBAL const float *x, GLOBAL const float *gamma, GLOBAL const float *beta, int affine,
                         GLOBAL float *y, GLOBAL float *mean, GLOBAL float *rstd, int c, int hw, int groups, float eps) {
    LOCAL float s[SK_WG];
    long ng = GRP(0);
    int g = (int) (ng % groups);
    int cpg = c / groups;
    long cnt = (long) cpg * hw;
    long base = ng * cnt; /* (n * c + g * cpg) * hw */
    float sum = 0.0f;
    for (long j = LID(0); j < cnt; j += SK_WG) sum += x[base + j];
    float mu = sk_wg_sum(s, sum) / (float) cnt;
    float sq = 0.0f;
    for (long j = LID(0); j < cnt; j += SK_WG) { float d = x[base + j] - mu; sq += d * d; }
    float rs = 1.0f / sqrt(sk_wg_sum(s, sq) / (float) cnt + eps);
    for (long j = LID(0); j < cnt; j += SK_WG) {
        float v = (x[base + j] - mu) * rs;
        if (affine) { int ch = g * cpg + (int) (j / hw); v = v * gamma[ch] + beta[ch]; }
        y[base + j] = v;
    }
    if (LID(0) == 0) { mean[ng] = mu; rstd[ng] = rs; }
}

KERNEL void sk_groupnorm_bwd(GLOBAL const float *x, GLOBAL const float *gamma, int affine,
                             GLOBAL const float *mean, GLOBAL const float *rstd, GLOBAL const float *dy,
                             GLOBAL float *dx, int c, int hw, int groups) {
    LOCAL float s[SK_WG];
    long ng = GRP(0);
    int g = (int) (ng % groups);
    int cpg = c / groups;
    long cnt = (long) cpg * hw;
    long base = ng * cnt;
    float mu = mean[ng], rs = rstd[ng];
    float s1 = 0.0f, s2 = 0.0f;
    for (long j = LID(0); j < cnt; j += SK_WG) {
        float gg = affine ? dy[base + j] * gamma[g * cpg + (int) (j / hw)] : dy[base + j];
        s1 += gg;
        s2 += gg * (x[base + j] - mu) * rs;
    }
    s1 = sk_wg_sum(s, s1) / (float) cnt;
    s2 = sk_wg_sum(s, s2) / (float) cnt;
    for (long j = LID(0); j < cnt; j += SK_WG) {
        float gg = affine ? dy[base + j] * gamma[g * cpg + (int) (j / hw)] : dy[base + j];
        float xh = (x[base + j] - mu) * rs;
        dx[base + j] = rs * (gg - s1 - xh * s2);
    }
}

/* One work-group per channel: dgamma[ch] = sum_{n, hw} dy * xhat, dbeta[ch] = sum dy. */
KERNEL void sk_groupnorm_dparams(GLOBAL const float *x, GLOBAL const float *mean, GLOBAL const float *rstd,
                                 GLOBAL const float *dy, GLOBAL float *dgamma, int wantGamma,
                                 GLOBAL float *dbeta, int wantBeta, int n, int c, int hw, int groups) {
    LOCAL float s[SK_WG];
    int ch = (int) GRP(0);
    int g = ch / (c / groups);
    float sg = 0.0f, sb = 0.0f;
    long total = (long) n * hw;
    for (long q = LID(0); q < total; q += SK_WG) {
        long ni = q / hw, k = q - ni * hw;
        long at = (ni * c + ch) * hw + k;
        long st = ni * groups + g;
        float d = dy[at];
        sg += d * (x[at] - mean[st]) * rstd[st];
        sb += d;
    }
    sg = sk_wg_sum(s, sg);
    sb = sk_wg_sum(s, sb);
    if (LID(0) == 0) {
        if (wantGamma) dgamma[ch] = sg;
        if (wantBeta) dbeta[ch] = sb;
    }
}
