package dev.sisma.engine.cpu.internal;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.ShortVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorShape;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * Single-precision GEMM in the BLIS style. K is cut into KC-deep slices, grouped into slabs whose
 * packed A stays under 4M floats. Per slab, op(A) is packed into MR-high row panels (in parallel,
 * once, shared by all tasks); then one fork/join pass over (column-panel groups x row groups)
 * packs each NR-wide panel of op(B) into a per-thread buffer right before use and runs an
 * MR x NR register-blocked micro-kernel over it (FMA accumulators: 6 rows x 2 vectors on
 * 16-register AVX2, 6 rows x 4 vectors on 32-register AVX-512). Packing absorbs both transposes,
 * so the micro-kernel sees one layout. Packed panels live in per-thread scratch arrays that are reused.
 */
public final class Gemm {
    private static final VectorSpecies<Float> S = FloatVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    /**
     * Micro-tile: 6 rows x VECTORS vectors of C in FMA accumulators. 4 vectors where there are 32
     * vector registers (AVX-512: 24 accumulators + 4 B vectors + broadcasts), else 2 (AVX2's 16
     * registers: 12 + 2 + 1, see {@link #kernel6x2}). {@code -Dsisma.cpu.gemmVectors=2|4} overrides
     * it (the tests run both tiles on every machine). 8 rows x 3 vectors, the other 24-accumulator
     * tile, loses to 6 x 4 under C2 (JDK 25): its scheduler hoists the 8 broadcasts ahead of their
     * FMAs, runs out of the 32 registers and keeps one accumulator on the stack, a store and a reload
     * every k-step: 150-160 GFLOPS against 200-205 for 6 x 4 (and 7 x 3, 8 x 2) on one Zen 5 core,
     * panels in L1/L2.
     */
    /** 6 x 4's slice depth and row block (in row panels), from the tuning runs in docs/benchmarks.md. */
    private static final int KC_WIDE = 512, MC_WIDE_PANELS = 24;
    static final int MR = 6, VECTORS = Integer.getInteger("sisma.cpu.gemmVectors", V >= 16 ? 4 : 2);
    static {
        if (VECTORS != 2 && VECTORS != 4) throw new IllegalStateException("sisma.cpu.gemmVectors must be 2 or 4, got " + VECTORS);
    }
    static final int NR = VECTORS * V;
    /**
     * Slice depth KC and row-block height MC (a multiple of MR, so row blocks start on packed row
     * panels). 6 x 2 (AVX2): KC = 1024, the 64 KB B micro-panel streams from L2 and the 24 KB A
     * micro-panel from L1 / L2; fewer, longer kernel calls halve the per-call cost (tile spill and
     * C update), measured +5% over KC = 256 on a Zen 3 core (256: 66 / 61 / 62 GFLOPS, 1024:
     * 70 / 64 / 65 at the three benchmark shapes). 6 x 4 (AVX-512): see {@link #KC_WIDE}.
     */
    static final int KC = Integer.getInteger("sisma.cpu.gemmKc", VECTORS == 4 ? KC_WIDE : 1024),
            MC = MR * Integer.getInteger("sisma.cpu.gemmMcPanels", VECTORS == 4 ? MC_WIDE_PANELS : 24);
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    private static final ByteOrder LE = ByteOrder.LITTLE_ENDIAN;
    static final ValueLayout.OfShort I16 = ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    private static final ThreadLocal<float[][]> SCRATCH = ThreadLocal.withInitial(() -> new float[6][]);

    private Gemm() {}

    private static float[] scratch(int slot, int size) {
        float[][] s = SCRATCH.get();
        if (s[slot] == null || s[slot].length < size) s[slot] = new float[Math.max(size, 1024)];
        return s[slot];
    }

    public static void gemm(Parallel par, boolean ta, boolean tb, int batch, int m, int n, int k,
                            float alpha, MemorySegment a, long strideA, MemorySegment b, long strideB,
                            float beta, MemorySegment c, MemorySegment bias) {
        gemm(par, ta, tb, batch, m, n, k, alpha, a, strideA, b, strideB, beta, c, bias, null);
    }

    /**
     * As above with B a buffer that {@code weights} may keep packed in place (see {@link PackedWeights}):
     * one B for the whole batch (batch 1 or stride 0) is looked up there, and its pack replaces the
     * per-panel packing.
     */
    public static void gemm(Parallel par, boolean ta, boolean tb, int batch, int m, int n, int k,
                            float alpha, MemorySegment a, long strideA, CpuBuffer b, long strideB,
                            float beta, MemorySegment c, MemorySegment bias, PackedWeights weights) {
        b.gemmReaders.incrementAndGet(); // while another GEMM reads b, nothing packs it in place
        try {
            MemorySegment half = b.halfValues();
            if (tb && !ta && m <= SMALL_M && k > 0 && alpha != 0f) { // x W^T for a few rows: dot products over W's rows, no packing
                MemorySegment w = half != null ? half : b.peek();
                int format = half == null ? F32 : b.bf16() ? BF16 : F16;
                for (int p = 0; p < batch; p++) fewRows(par, m, n, k, alpha, a, p * strideA, w, p * strideB, format, beta, c, (long) p * m * n, bias);
                return;
            }
            if (half != null) { // 16-bit weights: widened by the per-call packing, never kept packed (that would double them)
                for (int p = 0; p < batch; p++)
                    product(par, ta, tb, m, n, k, alpha, a, p * strideA, half, p * strideB, b.bf16() ? BF16 : F16, null, beta, c, (long) p * m * n, bias);
                return;
            }
            float[] packed = null;
            if (weights != null && (batch == 1 || strideB == 0) && k > 0 && alpha != 0f) {
                int panels = (n + NR - 1) / NR;
                long floats = (long) panels * NR * k;
                if (floats <= Integer.MAX_VALUE - 64)
                    packed = weights.lookup(b, tb, n, k, 0, (int) floats, dst -> packAll(par, tb, n, k, b.peek(), dst));
            }
            // packed: B's values live only in the pack now, which is all the kernels read
            gemm(par, ta, tb, batch, m, n, k, alpha, a, strideA, packed != null ? null : b.peek(), strideB, beta, c, bias, packed);
        } finally {
            b.gemmReaders.decrementAndGet();
        }
    }

    /** The inverse of {@link #packAll}: op(B)'s values from the pack back into B's own layout (tb: [n, k], else [k, n]). */
    static void unpack(float[] packed, boolean tb, int n, int k, MemorySegment b) {
        for (int jp = 0; jp * NR < n; jp++) {
            int j0 = jp * NR, nr = Math.min(NR, n - j0), base = jp * k * NR;
            for (int p = 0; p < k; p++)
                for (int jj = 0; jj < nr; jj++)
                    b.setAtIndex(F, tb ? (long) (j0 + jj) * k + p : (long) p * n + j0 + jj, packed[base + p * NR + jj]);
        }
    }

    /**
     * Rows of A up to which a Linear (x W^T) runs as dot products ({@link #fewRows}): AdaLN's
     * modulation and the timestep MLP see one row per sample. The packed kernel computes 6 rows
     * whatever M is, and packing a [9216, 1024] weight costs more than the product itself.
     */
    static final int SMALL_M = 4;

    /**
     * C[m, n] = alpha A[m, k] W[n, k]^T + beta C + bias for m <= {@link #SMALL_M}: each W row is read
     * once, in order (widened from 16 bits where it is stored so), against all m rows of A at once
     * (4 vector accumulators; A's rows copied and zero-padded to 4 per task). The lanes are summed
     * in lane order, so the result does not depend on the thread count or the JIT tier.
     */
    private static void fewRows(Parallel par, int m, int n, int k, float alpha, MemorySegment a, long ao, MemorySegment w, long wo, int wFormat,
                                float beta, MemorySegment c, long co, MemorySegment bias) {
        int tasks = par.tasks((long) n * k, 1 << 16);
        par.run(tasks, t -> {
            int j0 = (int) ((long) n * t / tasks), j1 = (int) ((long) n * (t + 1) / tasks);
            float[] x = scratch(4, 4 * k), row = wFormat == F32 ? null : scratch(3, k), lanes = scratch(2, 4 * V);
            for (int i = 0; i < 4; i++) {
                if (i < m) MemorySegment.copy(a, F, (ao + (long) i * k) * 4, x, i * k, k);
                else java.util.Arrays.fill(x, i * k, (i + 1) * k, 0f);
            }
            for (int j = j0; j < j1; j++) {
                long wr = (wo + (long) j * k) * (wFormat == F32 ? 4 : 2);
                if (row != null) widen(w, wr, k, wFormat == BF16, row, 0);
                FloatVector s0 = FloatVector.zero(S), s1 = s0, s2 = s0, s3 = s0;
                int p = 0;
                for (; p + V <= k; p += V) {
                    FloatVector y = row != null ? FloatVector.fromArray(S, row, p) : FloatVector.fromMemorySegment(S, w, wr + p * 4L, LE);
                    s0 = FloatVector.fromArray(S, x, p).fma(y, s0);
                    s1 = FloatVector.fromArray(S, x, k + p).fma(y, s1);
                    s2 = FloatVector.fromArray(S, x, 2 * k + p).fma(y, s2);
                    s3 = FloatVector.fromArray(S, x, 3 * k + p).fma(y, s3);
                }
                s0.intoArray(lanes, 0);
                s1.intoArray(lanes, V);
                s2.intoArray(lanes, 2 * V);
                s3.intoArray(lanes, 3 * V);
                for (int i = 0; i < m; i++) {
                    float sum = 0f;
                    for (int l = 0; l < V; l++) sum += lanes[i * V + l];
                    for (int q = p; q < k; q++) sum += x[i * k + q] * (row != null ? row[q] : w.get(F, wr + q * 4L));
                    long at = (co + (long) i * n + j) * 4;
                    float v = alpha * sum;
                    if (beta != 0f) v += beta * c.get(F, at);
                    if (bias != null) v += bias.get(F, j * 4L);
                    c.set(F, at, v);
                }
            }
        });
    }

    /** All of op(B) into the kernel's layout: panel jp at dst[jp k NR], its slab at p0 from dst[jp k NR + p0 NR]. */
    private static void packAll(Parallel par, boolean tb, int n, int k, MemorySegment b, float[] dst) {
        packPanels(par, tb, n, k, 0, k, b, 0, F32, dst);
    }

    /** A slab's B, every panel packed, shared by a pass's tasks: panel jp's slab starts at values[panel(jp)]. */
    private record SharedB(float[] values, int panelStride, int first) {
        int panel(int jp) { return jp * panelStride + first; }

        /** The slab at p0 of a weight's cached pack (panel stride k NR). */
        static SharedB ofPack(float[] packed, int k, int p0) { return new SharedB(packed, k * NR, p0 * NR); }
    }

    /** The slab's B: the weight's cached pack (panel stride k NR, the slab at p0 NR), or packed here into scratch (stride depth NR). */
    private static SharedB sharedB(Parallel par, boolean tb, int n, int k, int p0, int depth, MemorySegment b, long bo, int bFormat, float[] packed) {
        if (packed != null) return SharedB.ofPack(packed, k, p0);
        float[] bp = scratch(5, (n + NR - 1) / NR * depth * NR);
        packPanels(par, tb, n, k, p0, depth, b, bo, bFormat, bp);
        return new SharedB(bp, depth * NR, 0);
    }

    /**
     * Every panel of op(B)'s slab [p0, p0 + depth) into {@code dst} in parallel, panel jp at
     * dst[jp depth NR]: the shared B of {@link #byRowBlocks}, and (p0 0, depth k) a weight's whole
     * pack. ({@link #directA} packs its few panels per thread instead: {@link #threadB}.)
     */
    private static void packPanels(Parallel par, boolean tb, int n, int k, int p0, int depth, MemorySegment b, long bo, int bFormat, float[] dst) {
        int panels = (n + NR - 1) / NR;
        int tasks = par.tasks((long) panels * NR * depth, 1 << 16);
        par.run(tasks, t -> {
            for (int jp = panels * t / tasks; jp < panels * (t + 1) / tasks; jp++) packB(tb, n, k, p0, depth, b, bo, bFormat, jp, dst, jp * depth * NR);
        });
    }

    private static void gemm(Parallel par, boolean ta, boolean tb, int batch, int m, int n, int k,
                             float alpha, MemorySegment a, long strideA, MemorySegment b, long strideB,
                             float beta, MemorySegment c, MemorySegment bias, float[] packed) {
        for (int p = 0; p < batch; p++)
            product(par, ta, tb, m, n, k, alpha, a, p * strideA, b, p * strideB, F32, packed, beta, c, (long) p * m * n, bias);
    }

    /** B's element formats: float32, or 16-bit floats widened as they are packed. */
    private static final int F32 = 0, BF16 = 1, F16 = 2;

    /** One product of the batch: B at element {@code bo} of {@code b}, in {@code bFormat}; C at {@code co}. */
    private static void product(Parallel par, boolean ta, boolean tb, int m, int n, int k, float alpha, MemorySegment a, long ao,
                                MemorySegment b, long bo, int bFormat, float[] packed, float beta, MemorySegment c, long co, MemorySegment bias) {
        if (k == 0 || alpha == 0f) {
            initC(par, m, n, beta, c, co, bias);
            return;
        }
        // a "slab" is as many KC-deep slices as keep the packed A under 4M floats: A is packed
        // once (in parallel), then one fork/join pass computes the whole slab (two barriers)
        int rows = (m + MR - 1) / MR * MR;
        int slab = Math.max(KC, (int) Math.min(k, (4L << 20) / rows) / KC * KC);
        // the first slice's tile update also applies beta and the bias (no separate pass over C)
        for (int pc = 0; pc < k; pc += slab)
            multiply(par, ta, tb, m, n, k, pc, Math.min(slab, k - pc), alpha, a, ao, b, bo, bFormat, packed, c, co, pc == 0 ? beta : 1f, pc == 0 ? bias : null);
    }

    /** A 16-bit float (BF16: the top half of a binary32, exact; else IEEE F16) as float32. */
    static float widen(short h, boolean bf16) {
        return bf16 ? Float.intBitsToFloat(h << 16) : Float.float16ToFloat(h);
    }

    /** C = beta C + bias (C not read when beta is 0). */
    private static void initC(Parallel par, int m, int n, float beta, MemorySegment c, long co, MemorySegment bias) {
        int tasks = par.tasks((long) m * n, 1 << 15);
        par.run(tasks, t -> {
            int r0 = (int) ((long) m * t / tasks), r1 = (int) ((long) m * (t + 1) / tasks);
            for (int i = r0; i < r1; i++) {
                long row = (co + (long) i * n) * 4;
                int j = 0;
                for (; j <= n - V; j += V) {
                    FloatVector v = beta == 0f ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, c, row + j * 4L, LE).mul(beta);
                    if (bias != null) v = v.add(FloatVector.fromMemorySegment(S, bias, j * 4L, LE));
                    v.intoMemorySegment(c, row + j * 4L, LE);
                }
                for (; j < n; j++) {
                    float v = beta == 0f ? 0f : beta * c.get(F, row + j * 4L);
                    if (bias != null) v += bias.get(F, j * 4L);
                    c.set(F, row + j * 4L, v);
                }
            }
        });
    }

    /** C += alpha op(A)[:, p0:p0+depth] op(B)[p0:p0+depth, :], in KC-deep slices. */
    private static void multiply(Parallel par, boolean ta, boolean tb, int m, int n, int k, int p0, int depth,
                                 float alpha, MemorySegment a, long ao, MemorySegment b, long bo, int bFormat, float[] packed,
                                 MemorySegment c, long co, float beta, MemorySegment bias) {
        int panels = (n + NR - 1) / NR, rowPanels = (m + MR - 1) / MR, slices = (depth + KC - 1) / KC;
        if (!ta && panels <= DIRECT_A_PANELS) {
            directA(par, tb, m, n, k, p0, depth, alpha, a, ao, b, bo, bFormat, packed, c, co, beta, bias);
            return;
        }
        // slice q (depth kq) of row panel ir at ap[q rowPanels MR KC + ir kq]
        int aSlice = rowPanels * MR * KC;
        float[] ap = scratch(1, slices * aSlice);
        int packA = par.tasks((long) slices * rowPanels * MR * KC, 1 << 16);
        par.run(packA, t -> {
            int r0 = rowPanels * t / packA, r1 = rowPanels * (t + 1) / packA;
            if (r1 <= r0) return;
            packA(ta, m, k, p0, depth, a, ao, r0 * MR, Math.min(m, r1 * MR) - r0 * MR, ap, aSlice);
        });
        int mBlocks = (m + MC - 1) / MC;
        if ((long) rowPanels * MR * depth > ROW_ORDER_FLOATS) {
            byRowBlocks(par, tb, m, n, k, p0, depth, alpha, ap, aSlice, b, bo, bFormat, packed, c, co, beta, bias);
            return;
        }
        // tasks split the column panels first (each task packs its own B panels, so a panel split
        // over row groups is packed once per group); row groups only when panels are few
        int want = par.threads() > 1 ? 4 * par.threads() : 1;
        int colGroups = Math.min(panels, want), rowGroups = Math.min(mBlocks, (want + colGroups - 1) / colGroups);
        long work = 2L * m * n * depth;
        int tasks = work < 2_000_000 ? 1 : rowGroups * colGroups; // tiny products: one task, no fork cost
        par.run(tasks, t -> {
            int rg = tasks == 1 ? 0 : t / colGroups, cg = tasks == 1 ? 0 : t % colGroups;
            int rgs = tasks == 1 ? 1 : rowGroups, cgs = tasks == 1 ? 1 : colGroups;
            int i0 = mBlocks * rg / rgs * MC, i1 = Math.min(m, mBlocks * (rg + 1) / rgs * MC);
            int j0 = panels * cg / cgs, j1 = panels * (cg + 1) / cgs;
            float[] tile = scratch(2, MR * NR), bp = packed != null ? packed : scratch(0, slices * KC * NR);
            for (int jp = j0; jp < j1; jp++) {
                // this panel of B, all slices, packed right before use: bp[p NR + jj] stays in
                // L2 (64-256 KB), each 16 KB slice in L1 while the row panels below it run
                // (packing all of B up front wrote it to a cold 16 MB buffer: 20% of the time
                // at M = 256); or the weight's cached pack, read in the same order
                int b0 = packed != null ? (jp * k + p0) * NR : 0;
                if (packed == null) packB(tb, n, k, p0, depth, b, bo, bFormat, jp, bp, 0);
                for (int ib = i0; ib < i1; ib += MC)
                    blockTimesPanel(ib, Math.min(i1, ib + MC), jp, n, depth, alpha, ap, aSlice, bp, b0, c, co, beta, bias, tile);
            }
        });
    }

    /**
     * Size of a slab's packed A (floats) above which {@link #multiply} walks row blocks outermost:
     * each task keeps its MC-row block of the packed A in L2 while every panel of B (packed once for
     * the slab, shared) streams past it, the BLIS order. Up to it the packed A (at most 8 MB) is
     * walked once per panel of B instead, and each B panel is packed right before use, still in
     * cache: at M = 4096 that walk streamed 16 MB of A from L3 per B panel (0.79 of OpenBLAS against
     * 0.88 by row blocks, one thread); at 1024 x 1024 (4 MB of A) it was the faster order (0.97 / 0.89).
     */
    static final long ROW_ORDER_FLOATS = Long.getLong("sisma.cpu.gemmRowOrderFloats", 2L << 20);

    /** {@link #multiply}'s compute for a packed A over {@link #ROW_ORDER_FLOATS}: row blocks split over tasks, B packed whole first. */
    private static void byRowBlocks(Parallel par, boolean tb, int m, int n, int k, int p0, int depth, float alpha, float[] ap, int aSlice,
                                    MemorySegment b, long bo, int bFormat, float[] packed, MemorySegment c, long co, float beta, MemorySegment bias) {
        int panels = (n + NR - 1) / NR, mBlocks = (m + MC - 1) / MC;
        SharedB sb = sharedB(par, tb, n, k, p0, depth, b, bo, bFormat, packed);
        float[] bp = sb.values();
        int tasks = Math.min(mBlocks, par.threads() > 1 ? 4 * par.threads() : 1);
        par.run(tasks, t -> {
            float[] tile = scratch(2, MR * NR);
            for (int blk = mBlocks * t / tasks; blk < mBlocks * (t + 1) / tasks; blk++) {
                int ib = blk * MC, ie = Math.min(m, ib + MC);
                for (int jp = 0; jp < panels; jp++)
                    blockTimesPanel(ib, ie, jp, n, depth, alpha, ap, aSlice, bp, sb.panel(jp), c, co, beta, bias, tile);
            }
        });
    }

    /**
     * Column panels of B up to which a row-major A is read in place, not packed: a narrow product
     * (x_proj's 96 columns, the cross-Mamba's B, C and dt projections of 32 and 64 at K = 2048) uses
     * each value of A once or twice, and packing A cost more than multiplying (0.6-0.8 of OpenBLAS).
     */
    static final int DIRECT_A_PANELS = 2;

    /** {@link #multiply} for {@link #DIRECT_A_PANELS} panels at most: row blocks split over tasks, A's rows read where they are. */
    private static void directA(Parallel par, boolean tb, int m, int n, int k, int p0, int depth, float alpha, MemorySegment a, long ao,
                                MemorySegment b, long bo, int bFormat, float[] packed, MemorySegment c, long co, float beta, MemorySegment bias) {
        int panels = (n + NR - 1) / NR, rowPanels = (m + MR - 1) / MR;
        // B's few panels packed once per thread, by the thread, in its own cache (packed once for
        // all tasks, every panel one core packed was read from the other's cache: x_proj per call
        // 0.60 of OpenBLAS at two threads; once per task, 8 tasks packed it 8 times)
        SharedB cached = packed != null ? SharedB.ofPack(packed, k, p0) : null;
        long call = DIRECT_CALLS.incrementAndGet();
        long work = 2L * m * n * depth;
        int tasks = work < 2_000_000 ? 1 : Math.min(rowPanels, par.threads() > 1 ? 4 * par.threads() : 1);
        par.run(tasks, t -> {
            SharedB sb = cached != null ? cached : threadB(call, tb, n, k, p0, depth, b, bo, bFormat);
            float[] bp = sb.values();
            int i0 = rowPanels * t / tasks * MR, i1 = Math.min(m, rowPanels * (t + 1) / tasks * MR);
            float[] tile = scratch(2, MR * NR);
            for (int jp = 0; jp < panels; jp++) {
                int b0 = sb.panel(jp), jc = jp * NR, nr = Math.min(NR, n - jc);
                for (int pc = 0; pc < depth; pc += KC) {
                    int kc = Math.min(KC, depth - pc);
                    for (int ir = i0; ir < i1; ir += MR) {
                        int mr = Math.min(MR, i1 - ir);
                        long row = (ao + (long) ir * k + p0 + pc) * 4, lda = k * 4L;
                        if (mr < MR) kernelRowsDirect(kc, a, row, lda, mr, bp, b0 + pc * NR, tile);
                        else if (VECTORS == 4 && nr > 2 * V) kernel6x4Direct(kc, a, row, lda, bp, b0 + pc * NR, tile);
                        else kernel6x2Direct(kc, a, row, lda, bp, b0 + pc * NR, tile);
                        addTile(tile, alpha, c, co + (long) ir * n + jc, n, mr, nr, pc == 0 ? beta : 1f, pc == 0 ? bias : null, jc);
                    }
                }
            }
        });
    }

    /** Numbers {@link #directA}'s calls, so a thread knows whether its packed B is this call's. */
    private static final java.util.concurrent.atomic.AtomicLong DIRECT_CALLS = new java.util.concurrent.atomic.AtomicLong();

    /** A thread's packing of a direct-A product's B: for call {@code call}. */
    private static final class ThreadB {
        long call;
        float[] values = new float[0];
    }

    private static final ThreadLocal<ThreadB> THREAD_B = ThreadLocal.withInitial(ThreadB::new);

    /** This thread's packing of op(B)'s slab for direct-A call {@code call}, packed on the thread's first task of it. */
    private static SharedB threadB(long call, boolean tb, int n, int k, int p0, int depth, MemorySegment b, long bo, int bFormat) {
        ThreadB mine = THREAD_B.get();
        int panels = (n + NR - 1) / NR;
        if (mine.call != call) {
            if (mine.values.length < panels * depth * NR) mine.values = new float[panels * depth * NR];
            for (int jp = 0; jp < panels; jp++) packB(tb, n, k, p0, depth, b, bo, bFormat, jp, mine.values, jp * depth * NR);
            mine.call = call;
        }
        return new SharedB(mine.values, depth * NR, 0);
    }

    /**
     * {@link #kernel6x4} with A's 6 rows read in place: row i at byte {@code row + i lda} of {@code a}.
     * The two direct kernels repeat the packed ones' tiles on purpose: one kernel reading A through a
     * shared accessor (a heap segment over the pack) would put the packed path, measured at 200-205
     * GFLOPS with plain array reads, on segment reads it has not been measured with.
     */
    private static void kernel6x4Direct(int kc, MemorySegment a, long row, long lda, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                    c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        long r0 = row, r1 = row + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
        int bo = bi;
        for (int p = 0; p < kc; p++) {
            long o = 4L * p;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + V),
                        b2 = FloatVector.fromArray(S, bp, bo + 2 * V), b3 = FloatVector.fromArray(S, bp, bo + 3 * V);
            FloatVector x = FloatVector.broadcast(S, a.get(F, r0 + o));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, a.get(F, r1 + o));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, a.get(F, r2 + o));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, a.get(F, r3 + o));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, a.get(F, r4 + o));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42); c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(S, a.get(F, r5 + o));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52); c53 = x.fma(b3, c53);
            bo += NR;
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, V); c02.intoArray(tile, 2 * V); c03.intoArray(tile, 3 * V);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + V); c12.intoArray(tile, NR + 2 * V); c13.intoArray(tile, NR + 3 * V);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + V); c22.intoArray(tile, 2 * NR + 2 * V); c23.intoArray(tile, 2 * NR + 3 * V);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + V); c32.intoArray(tile, 3 * NR + 2 * V); c33.intoArray(tile, 3 * NR + 3 * V);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + V); c42.intoArray(tile, 4 * NR + 2 * V); c43.intoArray(tile, 4 * NR + 3 * V);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + V); c52.intoArray(tile, 5 * NR + 2 * V); c53.intoArray(tile, 5 * NR + 3 * V);
    }

    /** {@link #kernel6x2} with A's 6 rows read in place (the 2-vector tile, or a narrow last panel). */
    private static void kernel6x2Direct(int kc, MemorySegment a, long row, long lda, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        long r0 = row, r1 = row + lda, r2 = r1 + lda, r3 = r2 + lda, r4 = r3 + lda, r5 = r4 + lda;
        for (int p = 0; p + 1 <= kc; p++) { // p + 1 <= kc: see kernel6x2
            int bo = bi + p * NR;
            long o = 4L * p;
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + V);
            FloatVector x = FloatVector.broadcast(S, a.get(F, r0 + o));
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, a.get(F, r1 + o));
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, a.get(F, r2 + o));
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, a.get(F, r3 + o));
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, a.get(F, r4 + o));
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, a.get(F, r5 + o));
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, V);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + V);
    }

    /** The last rows (fewer than 6) of a direct-A product, one row at a time, into the tile's first {@code mr} rows. */
    private static void kernelRowsDirect(int kc, MemorySegment a, long row, long lda, int mr, float[] bp, int bi, float[] tile) {
        for (int i = 0; i < mr; i++) {
            for (int v = 0; v < NR; v += V) {
                FloatVector acc = FloatVector.zero(S);
                for (int p = 0; p < kc; p++) acc = FloatVector.broadcast(S, a.get(F, row + i * lda + 4L * p)).fma(FloatVector.fromArray(S, bp, bi + p * NR + v), acc);
                acc.intoArray(tile, i * NR + v);
            }
        }
    }

    /**
     * C[ib:ie, panel jp] += the slab's rows ib..ie of op(A) times B panel jp (its slice q at
     * bp[b0 + q KC NR]). Slices inside the row block: its MC x NR block of C stays in L1 across the
     * slab (slices outermost re-read C from L3 once per slice).
     */
    private static void blockTimesPanel(int ib, int ie, int jp, int n, int depth, float alpha, float[] ap, int aSlice, float[] bp, int b0,
                                        MemorySegment c, long co, float beta, MemorySegment bias, float[] tile) {
        int jc = jp * NR, nr = Math.min(NR, n - jc);
        for (int q = 0, kc; q * KC < depth; q++) {
            kc = Math.min(KC, depth - q * KC);
            for (int ir = ib; ir < ie; ir += MR)
                kernel(kc, ap, q * aSlice + ir * kc, bp, b0 + q * KC * NR, alpha, c, co + (long) ir * n + jc, n, Math.min(MR, ie - ir), nr, tile,
                        q == 0 ? beta : 1f, q == 0 ? bias : null, jc);
        }
    }

    /** Panel jp of op(B) over the slab [p0, p0 + depth): bp[base + p NR + jj] = op(B)[p0 + p, jp NR + jj], zero beyond n. */
    private static void packB(boolean tb, int n, int k, int p0, int depth, MemorySegment b, long bo, int bFormat, int jp, float[] bp, int base) {
        int j0 = jp * NR, nr = Math.min(NR, n - j0);
        if (bFormat != F32) {
            packHalfB(tb, n, k, p0, depth, b, bo, bFormat == BF16, j0, nr, bp, base);
            return;
        }
        if (!tb) { // B [k, n] row-major: NR contiguous values per p
            for (int p = 0; p < depth; p++) {
                int d = base + p * NR;
                MemorySegment.copy(b, F, (bo + (long) (p0 + p) * n + j0) * 4, bp, d, nr);
                for (int jj = nr; jj < NR; jj++) bp[d + jj] = 0f;
            }
        } else { // B stored [n, k] (Linear weights): a transpose
            int jj0 = 0, p8 = 0;
            if (TRANSPOSE8) { // 8 x 8 blocks transposed in registers: twice the speed of the scalar scatter
                p8 = depth & ~7;
                for (; jj0 + 8 <= nr; jj0 += 8) transpose8(b, (bo + (long) (j0 + jj0) * k + p0) * 4, k * 4L, p8, bp, base + jj0, NR);
            }
            // the rest (other vector widths, columns past the last full 8, depth past the last
            // multiple of 8): each row's slab depth in one long sequential bulk copy (KC-long
            // pieces of rows k apart were latency-bound), then scattered
            float[] row = scratch(3, depth);
            for (int jj = 0; jj < NR; jj++) {
                if (jj < jj0) {
                    if (p8 < depth) {
                        MemorySegment.copy(b, F, (bo + (long) (j0 + jj) * k + p0 + p8) * 4, row, 0, depth - p8);
                        for (int p = p8; p < depth; p++) bp[base + p * NR + jj] = row[p - p8];
                    }
                    continue;
                }
                if (jj < nr) {
                    MemorySegment.copy(b, F, (bo + (long) (j0 + jj) * k + p0) * 4, row, 0, depth);
                    for (int p = 0; p < depth; p++) bp[base + p * NR + jj] = row[p];
                } else {
                    for (int p = 0; p < depth; p++) bp[base + p * NR + jj] = 0f;
                }
            }
        }
    }

    private static final ThreadLocal<float[]> HALF_ROWS = ThreadLocal.withInitial(() -> new float[1024]);
    /** 16-bit lanes, as many as the float species has: one load widens into one float vector. */
    private static final VectorSpecies<Short> H = VectorSpecies.of(short.class, VectorShape.forBitSize(V * 16));

    /**
     * {@link #packB} from 16-bit floats: the same layout, each value widened exactly. Each row is
     * widened in order into float scratch first (vectorised for BF16: a shift), then the float
     * packing runs on that scratch (8 x 8 register transposes for a Linear's [n, k] weight).
     */
    private static void packHalfB(boolean tb, int n, int k, int p0, int depth, MemorySegment b, long bo, boolean bf16, int j0, int nr,
                                  float[] bp, int base) {
        if (!tb) { // B [k, n]: nr contiguous values per p, widened into place
            for (int p = 0; p < depth; p++) {
                int d = base + p * NR;
                widen(b, (bo + (long) (p0 + p) * n + j0) * 2, nr, bf16, bp, d);
                for (int jj = nr; jj < NR; jj++) bp[d + jj] = 0f;
            }
            return;
        }
        float[] rows = HALF_ROWS.get();
        if (rows.length < nr * depth) HALF_ROWS.set(rows = new float[nr * depth]);
        for (int jj = 0; jj < nr; jj++) widen(b, (bo + (long) (j0 + jj) * k + p0) * 2, depth, bf16, rows, jj * depth);
        packB(true, nr, depth, 0, depth, MemorySegment.ofArray(rows), 0, F32, 0, bp, base);
    }

    /** dst[at, at + count) = the count 16-bit floats at byte {@code off} of {@code b}, widened. */
    private static void widen(MemorySegment b, long off, int count, boolean bf16, float[] dst, int at) {
        int i = 0;
        if (bf16) // a BF16 value is the top half of its float: sign-extend to 32 bits, shift left 16
            for (; i + V <= count; i += V)
                ((IntVector) ShortVector.fromMemorySegment(H, b, off + 2L * i, LE).convertShape(VectorOperators.S2I, IntVector.SPECIES_PREFERRED, 0))
                        .lanewise(VectorOperators.LSHL, 16).reinterpretAsFloats().intoArray(dst, at + i);
        for (; i < count; i++) dst[at + i] = widen(b.get(I16, off + 2L * i), bf16);
    }

    /**
     * The packing transposes work on 8-float (256-bit) vectors whatever the kernel's width: AVX2
     * and AVX-512 both have them in hardware; on narrower ISAs (NEON) they would be emulated, so
     * packing stays scalar there.
     */
    private static final VectorSpecies<Float> T = FloatVector.SPECIES_256;
    private static final boolean TRANSPOSE8 = V >= 8;
    // two-input shuffles for the 8 x 8 transpose (AVX2's unpacklo/hi, shuffle_ps, permute2f128):
    // lane indices 0-7 pick from the first vector, 8-15 from the second
    private static final VectorShuffle<Float> LO = shuffle(0, 8, 1, 9, 4, 12, 5, 13), HI = shuffle(2, 10, 3, 11, 6, 14, 7, 15),
            EVEN_PAIRS = shuffle(0, 1, 8, 9, 4, 5, 12, 13), ODD_PAIRS = shuffle(2, 3, 10, 11, 6, 7, 14, 15),
            LOW_HALVES = shuffle(0, 1, 2, 3, 8, 9, 10, 11), HIGH_HALVES = shuffle(4, 5, 6, 7, 12, 13, 14, 15);

    private static VectorShuffle<Float> shuffle(int... lanes) {
        return TRANSPOSE8 ? VectorShuffle.fromValues(T, lanes) : null;
    }

    /**
     * dst[base + p stride + i] = X[row i, p] for i < 8 and p < depth8 (a multiple of 8), 8 rows of X
     * starting at byte {@code at} of {@code b}, {@code ks} bytes apart: 8 x 8 blocks, loaded as 8
     * row vectors, transposed in registers in three shuffle stages, stored as 8 column vectors in
     * order of p (8 wide: with a stride below 8 a column overwrites the start of the next).
     */
    private static void transpose8(MemorySegment b, long at, long ks, int depth8, float[] bp, int base, int stride) {
        for (int p = 0; p < depth8; p += 8) {
            long o = at + p * 4L;
            FloatVector r0 = FloatVector.fromMemorySegment(T, b, o, LE), r1 = FloatVector.fromMemorySegment(T, b, o + ks, LE),
                        r2 = FloatVector.fromMemorySegment(T, b, o + 2 * ks, LE), r3 = FloatVector.fromMemorySegment(T, b, o + 3 * ks, LE),
                        r4 = FloatVector.fromMemorySegment(T, b, o + 4 * ks, LE), r5 = FloatVector.fromMemorySegment(T, b, o + 5 * ks, LE),
                        r6 = FloatVector.fromMemorySegment(T, b, o + 6 * ks, LE), r7 = FloatVector.fromMemorySegment(T, b, o + 7 * ks, LE);
            FloatVector t0 = r0.rearrange(LO, r1), t1 = r0.rearrange(HI, r1), t2 = r2.rearrange(LO, r3), t3 = r2.rearrange(HI, r3),
                        t4 = r4.rearrange(LO, r5), t5 = r4.rearrange(HI, r5), t6 = r6.rearrange(LO, r7), t7 = r6.rearrange(HI, r7);
            FloatVector u0 = t0.rearrange(EVEN_PAIRS, t2), u1 = t0.rearrange(ODD_PAIRS, t2), u2 = t1.rearrange(EVEN_PAIRS, t3),
                        u3 = t1.rearrange(ODD_PAIRS, t3), u4 = t4.rearrange(EVEN_PAIRS, t6), u5 = t4.rearrange(ODD_PAIRS, t6),
                        u6 = t5.rearrange(EVEN_PAIRS, t7), u7 = t5.rearrange(ODD_PAIRS, t7);
            int d = base + p * stride;
            u0.rearrange(LOW_HALVES, u4).intoArray(bp, d);
            u1.rearrange(LOW_HALVES, u5).intoArray(bp, d + stride);
            u2.rearrange(LOW_HALVES, u6).intoArray(bp, d + 2 * stride);
            u3.rearrange(LOW_HALVES, u7).intoArray(bp, d + 3 * stride);
            u0.rearrange(HIGH_HALVES, u4).intoArray(bp, d + 4 * stride);
            u1.rearrange(HIGH_HALVES, u5).intoArray(bp, d + 5 * stride);
            u2.rearrange(HIGH_HALVES, u6).intoArray(bp, d + 6 * stride);
            u3.rearrange(HIGH_HALVES, u7).intoArray(bp, d + 7 * stride);
        }
    }

    /**
     * Rows [i0, i0+mc) of op(A) (i0 a multiple of MR) into MR-high panels for every slice q of the
     * slab: ap[q aSlice + (i0 + ir) kc + p MR + ii], zero-padded.
     */
    private static void packA(boolean ta, int m, int k, int p0, int depth, MemorySegment a, long ao, int i0, int mc, float[] ap, int aSlice) {
        for (int ir = 0; ir < mc; ir += MR) {
            int mr = Math.min(MR, mc - ir);
            if (!ta && TRANSPOSE8 && i0 + ir + 8 <= m) { // A [m, k], 8 rows readable: transposed in registers
                for (int q = 0, pc = 0; pc < depth; q++, pc += KC) {
                    int kc = Math.min(KC, depth - pc), d = q * aSlice + (i0 + ir) * kc;
                    long at = (ao + (long) (i0 + ir) * k + p0 + pc) * 4;
                    // each column goes out 8 wide: its 8 - MR extra lanes (rows of the next panel)
                    // land in the next column's slots, which are written after it; the last
                    // columns go scalar, so nothing lands past this panel (another task's)
                    int k8 = (kc - 1) & ~7;
                    transpose8(a, at, k * 4L, k8, ap, d, MR);
                    for (int p = k8; p < kc; p++)
                        for (int ii = 0; ii < MR; ii++) ap[d + p * MR + ii] = a.get(F, at + ((long) ii * k + p) * 4);
                }
            } else if (!ta) { // A [m, k], last rows: bulk-copy each row's slab depth once, then scatter with stride MR
                float[] row = scratch(4, depth);
                for (int ii = 0; ii < MR; ii++) {
                    if (ii < mr) MemorySegment.copy(a, F, (ao + (long) (i0 + ir + ii) * k + p0) * 4, row, 0, depth);
                    for (int q = 0, pc = 0; pc < depth; q++, pc += KC) {
                        int kc = Math.min(KC, depth - pc), d = q * aSlice + (i0 + ir) * kc + ii;
                        if (ii < mr) for (int p = 0; p < kc; p++) ap[d + p * MR] = row[pc + p];
                        else for (int p = 0; p < kc; p++) ap[d + p * MR] = 0f;
                    }
                }
            } else { // A stored [k, m]
                for (int p = 0; p < depth; p++) {
                    int q = p / KC, kc = Math.min(KC, depth - q * KC);
                    int d = q * aSlice + (i0 + ir) * kc + (p - q * KC) * MR;
                    MemorySegment.copy(a, F, (ao + (long) (p0 + p) * m + i0 + ir) * 4, ap, d, mr);
                    for (int ii = mr; ii < MR; ii++) ap[d + ii] = 0f;
                }
            }
        }
    }

    /**
     * The micro-kernel: C[MR x NR tile] += alpha * Apanel (MR x kc) * Bpanel (kc x NR).
     * 12 vector accumulators; one broadcast and two vector loads per row and k-step.
     */
    private static void kernel(int kc, float[] ap, int ai, float[] bp, int bi, float alpha,
                               MemorySegment c, long cIndex, int ldc, int mr, int nr, float[] tile,
                               float beta, MemorySegment bias, int jc) {
        // a last panel at most 2 vectors wide (x_proj's 96 columns: 64 + 32) runs the 2-vector
        // tile over its stride-NR rows instead of multiplying the zero padding
        if (VECTORS == 4 && nr > 2 * V) kernel6x4(kc, ap, ai, bp, bi, tile);
        else kernel6x2(kc, ap, ai, bp, bi, tile);
        addTile(tile, alpha, c, cIndex, ldc, mr, nr, beta, bias, jc);
    }

    /** 6 x 4-vector tile into {@code tile} (24 accumulators: for 32-register ISAs). */
    private static void kernel6x4(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c02 = z, c03 = z, c10 = z, c11 = z, c12 = z, c13 = z, c20 = z, c21 = z, c22 = z, c23 = z,
                    c30 = z, c31 = z, c32 = z, c33 = z, c40 = z, c41 = z, c42 = z, c43 = z, c50 = z, c51 = z, c52 = z, c53 = z;
        int bo = bi, ao = ai;
        for (int p = 0; p < kc; p++) {
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + V),
                        b2 = FloatVector.fromArray(S, bp, bo + 2 * V), b3 = FloatVector.fromArray(S, bp, bo + 3 * V);
            FloatVector x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01); c02 = x.fma(b2, c02); c03 = x.fma(b3, c03);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11); c12 = x.fma(b2, c12); c13 = x.fma(b3, c13);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21); c22 = x.fma(b2, c22); c23 = x.fma(b3, c23);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31); c32 = x.fma(b2, c32); c33 = x.fma(b3, c33);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41); c42 = x.fma(b2, c42); c43 = x.fma(b3, c43);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51); c52 = x.fma(b2, c52); c53 = x.fma(b3, c53);
            bo += NR;
            ao += 6;
        }
        c00.intoArray(tile, 0); c01.intoArray(tile, V); c02.intoArray(tile, 2 * V); c03.intoArray(tile, 3 * V);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + V); c12.intoArray(tile, NR + 2 * V); c13.intoArray(tile, NR + 3 * V);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + V); c22.intoArray(tile, 2 * NR + 2 * V); c23.intoArray(tile, 2 * NR + 3 * V);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + V); c32.intoArray(tile, 3 * NR + 2 * V); c33.intoArray(tile, 3 * NR + 3 * V);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + V); c42.intoArray(tile, 4 * NR + 2 * V); c43.intoArray(tile, 4 * NR + 3 * V);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + V); c52.intoArray(tile, 5 * NR + 2 * V); c53.intoArray(tile, 5 * NR + 3 * V);
    }

    /**
     * 6 x 2-vector tile into {@code tile} (the BLIS/OpenBLAS Haswell shape: 12 accumulators + 2 B
     * vectors + 1 broadcast = 15 of the 16 AVX2 registers). Measured on a Zen 3 core, panels in L1,
     * register-only FMA peak about 100 GFLOPS: the old 4 x 3 tile needs all 16 registers, so C2
     * kept accumulators on the stack and every k-step waited on a store-to-load round trip (41-44
     * GFLOPS); unrolling k by hand makes C2 hoist the next steps' loads and spill too (6 x 2
     * unrolled: 55; plain: 86). The {@code p + 1 <= kc} loop test is deliberate: with {@code p < kc}
     * C2 (JDK 25) hoists the bounds checks into a pre-loop whose extra live values cost one
     * accumulator spill in this tight allocation (whole GEMM 35 vs 55 GFLOPS, one thread); the
     * in-loop checks it keeps instead are cheap compares.
     */
    private static void kernel6x2(int kc, float[] ap, int ai, float[] bp, int bi, float[] tile) {
        FloatVector z = FloatVector.zero(S);
        FloatVector c00 = z, c01 = z, c10 = z, c11 = z, c20 = z, c21 = z, c30 = z, c31 = z, c40 = z, c41 = z, c50 = z, c51 = z;
        for (int p = 0; p + 1 <= kc; p++) {
            int bo = bi + p * NR, ao = ai + p * 6; // NR: 2 vectors, or a narrow last panel of the 4-vector layout
            FloatVector b0 = FloatVector.fromArray(S, bp, bo), b1 = FloatVector.fromArray(S, bp, bo + V);
            FloatVector x = FloatVector.broadcast(S, ap[ao]);
            c00 = x.fma(b0, c00); c01 = x.fma(b1, c01);
            x = FloatVector.broadcast(S, ap[ao + 1]);
            c10 = x.fma(b0, c10); c11 = x.fma(b1, c11);
            x = FloatVector.broadcast(S, ap[ao + 2]);
            c20 = x.fma(b0, c20); c21 = x.fma(b1, c21);
            x = FloatVector.broadcast(S, ap[ao + 3]);
            c30 = x.fma(b0, c30); c31 = x.fma(b1, c31);
            x = FloatVector.broadcast(S, ap[ao + 4]);
            c40 = x.fma(b0, c40); c41 = x.fma(b1, c41);
            x = FloatVector.broadcast(S, ap[ao + 5]);
            c50 = x.fma(b0, c50); c51 = x.fma(b1, c51);
        }
        // spill to the tile (plain array stores keep every accumulator intrinsified: a vector that
        // reaches a non-intrinsic use would be boxed, inside the loop too)
        c00.intoArray(tile, 0); c01.intoArray(tile, V);
        c10.intoArray(tile, NR); c11.intoArray(tile, NR + V);
        c20.intoArray(tile, 2 * NR); c21.intoArray(tile, 2 * NR + V);
        c30.intoArray(tile, 3 * NR); c31.intoArray(tile, 3 * NR + V);
        c40.intoArray(tile, 4 * NR); c41.intoArray(tile, 4 * NR + V);
        c50.intoArray(tile, 5 * NR); c51.intoArray(tile, 5 * NR + V);
    }

    /**
     * C[mr x nr at cIndex] = beta C + bias[jc..] + alpha tile: beta 1 and no bias after the first
     * K slice; C is not read when beta is 0 (so NaN there does not leak, as BLAS).
     */
    private static void addTile(float[] tile, float alpha, MemorySegment c, long cIndex, int ldc, int mr, int nr,
                                float beta, MemorySegment bias, int jc) {
        for (int r = 0; r < mr; r++) {
            long row = (cIndex + (long) r * ldc) * 4;
            int j = 0;
            for (; j + V <= nr; j += V) {
                long off = row + j * 4L;
                FloatVector v = beta == 0f ? FloatVector.zero(S) : FloatVector.fromMemorySegment(S, c, off, LE);
                if (beta != 0f && beta != 1f) v = v.mul(beta);
                if (bias != null) v = v.add(FloatVector.fromMemorySegment(S, bias, (jc + j) * 4L, LE));
                FloatVector.fromArray(S, tile, r * NR + j).mul(alpha).add(v).intoMemorySegment(c, off, LE);
            }
            for (; j < nr; j++) {
                float v = beta == 0f ? 0f : beta == 1f ? c.get(F, row + j * 4L) : beta * c.get(F, row + j * 4L);
                if (bias != null) v += bias.get(F, (jc + j) * 4L);
                c.set(F, row + j * 4L, v + alpha * tile[r * NR + j]);
            }
        }
    }
}
