/* Mamba-1 selective scan, fused, forward and backward (see Backend#selectiveScan).
 * One work-item per (batch, channel), a sequential loop over positions with the n states in
 * private memory; neighbouring work-items are neighbouring channels, so the [b, l, e] reads and
 * writes coalesce and B, C [b, l, n] are broadcast reads.
 *
 * Backward, four launches (host side): sk_scan_fwd with states saved to S [b, l, n, e];
 * dC = sk_weighted_rows(dy, S); sk_scan_bwd (reverse loop, carries dh in private memory, writes
 * du, ddelta, per-batch partials of dA and dD, and overwrites S[t] with the per-channel dB terms
 * once h[t] is no longer needed); then dB, dA, dD are sums of the partials (sk_reduce*).
 *
 * The bodies are inline functions of n. At n = 16 (Mamba's usual d_state, the model's default):
 * sk_scan_bwd16 calls its body with n = 16, a compile-time constant: with the loops over k unrolled
 * (SK_UNROLL) dh, av, da index only by constants and live in registers; sk_scan_fwd16 (below) runs
 * the 16 states in parallel. The kernels without
 * the suffix take any n up to SK_MAX_STATE; their arrays are indexed by a run-time k, which puts
 * them in (cached) private/local memory. */
#define SK_MAX_STATE 64

DEVICE void sk_scan_fwd_body(GLOBAL const float *u, GLOBAL const float *delta, GLOBAL const float *a,
                             GLOBAL const float *bm, GLOBAL const float *cm, GLOBAL const float *d, int hasD,
                             GLOBAL float *y, GLOBAL float *S, int saveStates, int b, int l, int e, int n) {
    long g = GID(0);
    if (g >= (long) b * e) return;
    int ch = (int) (g % e);
    long bi = g / e;
    float h[SK_MAX_STATE], av[SK_MAX_STATE];
    SK_UNROLL for (int k = 0; k < n; k++) { h[k] = 0.0f; av[k] = a[(long) ch * n + k]; }
    float dd = hasD ? d[ch] : 0.0f;
    for (int t = 0; t < l; t++) {
        long row = bi * l + t;
        long at = row * e + ch, bt = row * n;
        float dt = delta[at], ut = u[at], dtu = dt * ut, acc = 0.0f;
        SK_UNROLL for (int k = 0; k < n; k++) {
            h[k] = exp(dt * av[k]) * h[k] + dtu * bm[bt + k];
            acc += cm[bt + k] * h[k];
            if (saveStates) S[(row * n + k) * e + ch] = h[k];
        }
        if (!saveStates) y[at] = acc + dd * ut;
    }
}

DEVICE void sk_scan_bwd_body(GLOBAL const float *u, GLOBAL const float *delta, GLOBAL const float *a,
                             GLOBAL const float *bm, GLOBAL const float *cm, GLOBAL const float *d, int hasD,
                             GLOBAL const float *dy, GLOBAL float *S, GLOBAL float *du, GLOBAL float *ddelta,
                             GLOBAL float *daPart, GLOBAL float *ddPart, int b, int l, int e, int n) {
    long g = GID(0);
    if (g >= (long) b * e) return;
    int ch = (int) (g % e);
    long bi = g / e;
    float dh[SK_MAX_STATE], av[SK_MAX_STATE], da[SK_MAX_STATE];
    SK_UNROLL for (int k = 0; k < n; k++) { dh[k] = 0.0f; da[k] = 0.0f; av[k] = a[(long) ch * n + k]; }
    float dd = hasD ? d[ch] : 0.0f, dsum = 0.0f;
    for (int t = l - 1; t >= 0; t--) {
        long row = bi * l + t;
        long at = row * e + ch, bt = row * n;
        float dt = delta[at], ut = u[at], dyt = dy[at];
        dsum += dyt * ut;
        float dut = dyt * dd, ddt = 0.0f;
        SK_UNROLL for (int k = 0; k < n; k++) {
            float gk = dh[k] + dyt * cm[bt + k];
            float dA = exp(dt * av[k]);
            float hp = t > 0 ? S[((row - 1) * n + k) * e + ch] : 0.0f;
            float bk = bm[bt + k];
            ddt += gk * (av[k] * dA * hp + bk * ut);
            da[k] += gk * dt * dA * hp;
            dut += gk * dt * bk;
            S[(row * n + k) * e + ch] = gk * dt * ut; /* this channel's share of dB[b, t, k] */
            dh[k] = gk * dA;
        }
        du[at] = dut;
        ddelta[at] = ddt;
    }
    SK_UNROLL for (int k = 0; k < n; k++) daPart[g * n + k] = da[k];
    ddPart[g] = dsum;
}

#define SK_SCAN_FWD_PARAMS GLOBAL const float *u, GLOBAL const float *delta, GLOBAL const float *a, \
        GLOBAL const float *bm, GLOBAL const float *cm, GLOBAL const float *d, int hasD, GLOBAL float *y, \
        GLOBAL float *S, int saveStates, int b, int l, int e
#define SK_SCAN_FWD_ARGS u, delta, a, bm, cm, d, hasD, y, S, saveStates, b, l, e
#define SK_SCAN_BWD_PARAMS GLOBAL const float *u, GLOBAL const float *delta, GLOBAL const float *a, \
        GLOBAL const float *bm, GLOBAL const float *cm, GLOBAL const float *d, int hasD, GLOBAL const float *dy, \
        GLOBAL float *S, GLOBAL float *du, GLOBAL float *ddelta, GLOBAL float *daPart, GLOBAL float *ddPart, \
        int b, int l, int e
#define SK_SCAN_BWD_ARGS u, delta, a, bm, cm, d, hasD, dy, S, du, ddelta, daPart, ddPart, b, l, e

KERNEL void sk_scan_fwd(SK_SCAN_FWD_PARAMS, int n) { sk_scan_fwd_body(SK_SCAN_FWD_ARGS, n); }

/* The forward scan at d_state 16 with the states in parallel: the recurrence of each state is
 * independent, only y = sum_k C[k] h[k] joins them. A work-group of 128 work-items takes 8
 * (batch, channel) pairs, 16 work-items each, one state per work-item: 16 times the parallelism of
 * one work-item per channel (a batch-1 step of sisma-L/2 has 2048 channels: 2048 work-items are
 * too few for a GPU). Each work-item keeps its h in a register; every SK_SCAN_TC positions the
 * products C[t, k] h[t, k] go through local memory and 2 work-items per output sum them over k,
 * in k order (the sums are those of sk_scan_fwd). Launch: local 128, global ceil(b e / 8) * 128. */
#define SK_SCAN_TC 32

KERNEL void sk_scan_fwd16(SK_SCAN_FWD_PARAMS, int n) {
    LOCAL float part[SK_SCAN_TC][128];
    int lid = LID(0), k = lid % 16;
    long g = GRP(0) * 8 + lid / 16;            /* this work-item's (batch, channel) */
    int active = g < (long) b * e;
    int ch = active ? (int) (g % e) : 0;
    long bi = active ? g / e : 0;
    float av = active ? a[(long) ch * 16 + k] : 0.0f, h = 0.0f;
    for (int t0 = 0; t0 < l; t0 += SK_SCAN_TC) {
        for (int tt = 0; tt < SK_SCAN_TC; tt++) {
            int t = t0 + tt;
            float c = 0.0f;
            if (active && t < l) {
                long row = bi * l + t, at = row * e + ch, bt = row * 16;
                float dt = delta[at];
                h = exp(dt * av) * h + dt * u[at] * bm[bt + k];
                c = cm[bt + k] * h;
                if (saveStates) S[(row * 16 + k) * e + ch] = h;
            }
            part[tt][lid] = c;
        }
        BARRIER();
        if (!saveStates) {
            for (int o = lid; o < 8 * SK_SCAN_TC; o += 128) {
                int c8 = o / SK_SCAN_TC, tt = o % SK_SCAN_TC, t = t0 + tt;
                long go = GRP(0) * 8 + c8;
                if (go < (long) b * e && t < l) {
                    int cho = (int) (go % e);
                    long at = (go / e * l + t) * e + cho;
                    float acc = 0.0f;
                    for (int kk = 0; kk < 16; kk++) acc += part[tt][c8 * 16 + kk];
                    y[at] = acc + (hasD ? d[cho] : 0.0f) * u[at];
                }
            }
        }
        BARRIER();
    }
}
KERNEL void sk_scan_bwd(SK_SCAN_BWD_PARAMS, int n) { sk_scan_bwd_body(SK_SCAN_BWD_ARGS, n); }
KERNEL void sk_scan_bwd16(SK_SCAN_BWD_PARAMS, int n) { sk_scan_bwd_body(SK_SCAN_BWD_ARGS, 16); }
