/* Convolutions (conv2d as im2col + GEMM, depthwise causal conv1d), gather and scatter-add.
 * Backward passes are written as gathers (each output summed by one work-item) rather than
 * atomic scatters: deterministic on every device. */

/* col[b][(ci*kh + i)*kw + j][oy*ow + ox] = x[b, ci, oy*st - pad + i, ox*st - pad + j] (0 outside). */
KERNEL void sk_im2col(GLOBAL const float *x, GLOBAL float *col, int n, int cin, int h, int w,
                      int kh, int kw, int st, int pad, int oh, int ow) {
    long g = GID(0);
    long ohw = (long) oh * ow, kk = (long) cin * kh * kw;
    if (g >= n * kk * ohw) return;
    long pix = g % ohw, r = g / ohw;
    long q = r % kk, b = r / kk;
    int j = (int) (q % kw), i = (int) ((q / kw) % kh), ci = (int) (q / ((long) kw * kh));
    int oy = (int) (pix / ow), ox = (int) (pix % ow);
    int iy = oy * st - pad + i, ix = ox * st - pad + j;
    float v = 0.0f;
    if (iy >= 0 && iy < h && ix >= 0 && ix < w) v = x[((b * cin + ci) * h + iy) * (long) w + ix];
    col[g] = v;
}

/* dx[b, ci, y, x] = sum of the dcol entries im2col took from it (overwrites dx). */
KERNEL void sk_col2im(GLOBAL const float *col, GLOBAL float *dx, int n, int cin, int h, int w,
                      int kh, int kw, int st, int pad, int oh, int ow) {
    long g = GID(0);
    if (g >= (long) n * cin * h * w) return;
    int xx = (int) (g % w), yy = (int) ((g / w) % h);
    long bc = g / ((long) h * w); /* b * cin + ci */
    int ci = (int) (bc % cin);
    long b = bc / cin;
    long ohw = (long) oh * ow, kk = (long) cin * kh * kw;
    float acc = 0.0f;
    for (int i = 0; i < kh; i++) {
        int ty = yy + pad - i;
        if (ty < 0 || ty % st != 0) continue;
        int oy = ty / st;
        if (oy >= oh) continue;
        for (int j = 0; j < kw; j++) {
            int tx = xx + pad - j;
            if (tx < 0 || tx % st != 0) continue;
            int ox = tx / st;
            if (ox >= ow) continue;
            long q = ((long) ci * kh + i) * kw + j;
            acc += col[(b * kk + q) * ohw + (long) oy * ow + ox];
        }
    }
    dx[g] = acc;
}

/* y[b, ch, k] += bias[ch] for y [n, c, hw]. */
KERNEL void sk_add_channel_bias(GLOBAL float *y, GLOBAL const float *bias, long total, int c, int hw) {
    long g = GID(0);
    if (g < total) y[g] += bias[(g / hw) % c];
}

/* dbias[ch] = sum_{b, k} dy[b, ch, k] for dy [n, c, hw]; one work-group per channel. */
KERNEL void sk_channel_sum(GLOBAL const float *dy, GLOBAL float *out, int n, int c, int hw) {
    LOCAL float s[SK_WG];
    int ch = (int) GRP(0);
    long total = (long) n * hw;
    float acc = 0.0f;
    for (long q = LID(0); q < total; q += SK_WG) {
        long b = q / hw, k = q - b * hw;
        acc += dy[(b * c + ch) * hw + k];
    }
    acc = sk_wg_sum(s, acc);
    if (LID(0) == 0) out[ch] = acc;
}

/* y[b,t,ch] = bias[ch] + sum_{j<k} w[ch,j] x[b, t-(k-1)+j, ch], x = 0 before t = 0. */
KERNEL void sk_dwconv1d(GLOBAL const float *x, GLOBAL const float *wt, GLOBAL const float *bias, int hasBias,
                        GLOBAL float *y, int b, int l, int c, int k) {
    long g = GID(0);
    if (g >= (long) b * l * c) return;
    int ch = (int) (g % c);
    long bt = g / c;
    int t = (int) (bt % l);
    float acc = hasBias ? bias[ch] : 0.0f;
    for (int j = 0; j < k; j++) {
        int ts = t - (k - 1) + j;
        if (ts >= 0) acc += wt[(long) ch * k + j] * x[g + (long) (ts - t) * c];
    }
    y[g] = acc;
}

/* dx[b,t,ch] = sum_j w[ch,j] dy[b, t+(k-1)-j, ch] (positions before l). */
KERNEL void sk_dwconv1d_dx(GLOBAL const float *wt, GLOBAL const float *dy, GLOBAL float *dx,
                           int b, int l, int c, int k) {
    long g = GID(0);
    if (g >= (long) b * l * c) return;
    int ch = (int) (g % c);
    int t = (int) ((g / c) % l);
    float acc = 0.0f;
    for (int j = 0; j < k; j++) {
        int td = t + (k - 1) - j;
        if (td < l) acc += wt[(long) ch * k + j] * dy[g + (long) (td - t) * c];
    }
    dx[g] = acc;
}

/* dw[ch, j] = sum_{b,t} dy[b,t,ch] x[b,t-(k-1)+j,ch]; j == k is the bias row: dbias[ch] = sum dy.
   One work-item per (ch, j), j < k + 1. */
KERNEL void sk_dwconv1d_dw(GLOBAL const float *x, GLOBAL const float *dy, GLOBAL float *dw,
                           GLOBAL float *dbias, int hasBias, int b, int l, int c, int k) {
    long g = GID(0);
    if (g >= (long) c * (k + 1)) return;
    int ch = (int) (g / (k + 1)), j = (int) (g % (k + 1));
    if (j == k && !hasBias) return;
    float acc = 0.0f;
    for (int bi = 0; bi < b; bi++) {
        for (int t = 0; t < l; t++) {
            long at = ((long) bi * l + t) * c + ch;
            if (j == k) { acc += dy[at]; continue; }
            int ts = t - (k - 1) + j;
            if (ts >= 0) acc += dy[at] * x[at + (long) (ts - t) * c];
        }
    }
    if (j == k) dbias[ch] = acc; else dw[(long) ch * k + j] = acc;
}

/* dst[o, i, r] = src[o, index[i], r]. */
KERNEL void sk_gather(GLOBAL const float *src, GLOBAL float *dst, GLOBAL const int *index,
                      int outer, int srcAxis, int nidx, int inner) {
    long g = GID(0);
    if (g >= (long) outer * nidx * inner) return;
    long r = g % inner, oi = g / inner;
    long i = oi % nidx, o = oi / nidx;
    dst[g] = src[(o * srcAxis + index[i]) * inner + r];
}

/* dst[o, j, r] += sum over the i with index[i] == j of src[o, i, r]; the host passes the inverse
   of index as CSR (start[j] .. start[j+1] into list), so each dst element has one writer. */
KERNEL void sk_scatter_add(GLOBAL const float *src, GLOBAL float *dst, GLOBAL const int *start,
                           GLOBAL const int *list, int outer, int dstAxis, int nidx, int inner) {
    long g = GID(0);
    if (g >= (long) outer * dstAxis * inner) return;
    long r = g % inner, oj = g / inner;
    long j = oj % dstAxis, o = oj / dstAxis;
    int s0 = start[j], s1 = start[j + 1];
    if (s0 == s1) return;
    float acc = 0.0f;
    for (int q = s0; q < s1; q++) acc += src[(o * nidx + list[q]) * inner + r];
    dst[g] += acc;
}
