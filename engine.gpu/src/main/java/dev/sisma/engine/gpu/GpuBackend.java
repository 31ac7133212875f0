package dev.sisma.engine.gpu;

import static dev.sisma.engine.gpu.OpCodes.code;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.BufferPool;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The SPI on one GPU device, for OpenCL and CUDA alike: argument and range checks, launch
 * geometry, stride merging, the gather/scatter index cache, the composite primitives (GEMM with
 * k = 0, convolutions as im2col + GEMM, the scan's multi-pass backward) over the kernels of
 * {@code engine.kernels/}, launched through a {@link GpuDevice}.
 *
 * <p>Every call queues kernels on the device's one in-order queue and returns; {@code download}
 * blocks, so it sees every earlier call complete. Host-device copies happen only in
 * upload/map/download (and once per distinct gather/scatter index array, cached). Buffer ranges are
 * checked on the host before a kernel runs: on a CPU driver such as PoCL the kernels run inside
 * this process, where an out-of-range write would corrupt the JVM.
 *
 * @param <M> the device's allocation handle
 */
public abstract class GpuBackend<M> implements Backend, AutoCloseable {
    /** SK_MAX_STATE in scan.cl: the largest d_state of the generic scan kernels. */
    public static final int SCAN_MAX_STATE = 64;
    /** The d_state compiled as a constant into sk_scan_fwd16 / sk_scan_bwd16 (the model's default). */
    public static final int SCAN_FIXED_STATE = 16;
    /** Work-items per group of the one-dimensional kernels. */
    private static final int GROUP_1D = 128;
    private static final int SUM = code(ReduceOp.SUM);

    private final GpuDevice<M> dev;
    private final String name;
    /** A one-float buffer bound where a nullable argument is null (kernels get a has-flag too). */
    private final GpuBuffer<M> dummy;
    /** Uploaded gather indices and scatter CSRs by content (the scan orders: a handful). */
    private final Map<IndexKey, List<M>> indexCache = new LinkedHashMap<>(16, 0.75f, true);

    protected GpuBackend(GpuDevice<M> dev, String name) {
        this.dev = dev;
        this.name = name;
        this.dummy = (GpuBuffer<M>) allocate(1);
    }

    /** The device layer. */
    public GpuDevice<M> gpu() {
        return dev;
    }

    @Override
    public String name() {
        return name;
    }

    /** Blocks until every queued call is complete (benchmarks). */
    public void finish() {
        dev.finish();
    }

    /** Device allocations made so far: a steady loop adds none (buffer pool). */
    public long buffersCreated() {
        return dev.pool().created();
    }

    @Override
    public void close() {
        synchronized (indexCache) {
            for (List<M> ms : indexCache.values()) for (M m : ms) dev.release(m);
            indexCache.clear();
        }
        dev.close();
    }

    // ================================================================== launch geometry

    /** One-dimensional launch over {@code n} work-items in groups of 128 (bounds checked in the kernel). */
    protected final void launch1(String kernel, long n, Object... args) {
        dev.launch(kernel, new long[] {n}, new long[] {Math.min(GROUP_1D, dev.rowGroup())}, args);
    }

    /** One work-group of SK_WG work-items per row. */
    protected final void launchRows(String kernel, long rows, Object... args) {
        int wg = dev.rowGroup();
        dev.launch(kernel, new long[] {rows * wg}, new long[] {wg}, args);
    }

    /** A by-value argument of 64-bit fields in the host's (= the device's) byte order: the sk_strided_t layout. */
    static byte[] longs(long... v) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.nativeOrder());
        for (long x : v) b.putLong(x);
        return b.array();
    }

    /**
     * The forward scan's launch: at n = 16 sk_scan_fwd16, 8 (batch, channel) pairs of 16 state
     * work-items per group of 128; else one work-item per (batch, channel).
     */
    private void scanForward(int n, int b, int e, Object... args) {
        if (n == SCAN_FIXED_STATE) {
            dev.launch("sk_scan_fwd16", new long[] {((long) b * e + 7) / 8 * 128}, new long[] {128}, args);
        } else {
            launch1("sk_scan_fwd", (long) b * e, args);
        }
    }

    /** The scan kernel for n states: the n = 16 one has the state count compiled in (see scan.cl). */
    private static String scanKernel(String kernel, int n) {
        return n == SCAN_FIXED_STATE ? kernel + SCAN_FIXED_STATE : kernel;
    }

    // ================================================================== memory

    @SuppressWarnings("unchecked")
    private GpuBuffer<M> cl(DeviceBuffer b) {
        if (b instanceof GpuBuffer<?> c && c.owner == this) return (GpuBuffer<M>) c;
        throw new IllegalArgumentException("buffer " + b + " does not belong to the " + name() + " backend");
    }

    /** Checks that elements [offset, offset + count) lie inside b (see the class comment). */
    private GpuBuffer<M> need(DeviceBuffer b, long offset, long count, String what) {
        GpuBuffer<M> c = cl(b);
        if (offset < 0 || count < 0 || offset + count > c.size()) {
            throw new IndexOutOfBoundsException(what + ": elements [" + offset + ", " + (offset + count)
                    + ") outside a buffer of " + c.size());
        }
        return c;
    }

    private GpuBuffer<M> need(DeviceBuffer b, long count, String what) {
        return need(b, 0, count, what);
    }

    private Object opt(DeviceBuffer b, long count, String what) {
        return b == null ? dummy : need(b, count, what);
    }

    private static int flag(DeviceBuffer b) {
        return b == null ? 0 : 1;
    }

    /** Uninitialised scratch memory from the pool; close it after enqueueing its last use. */
    private GpuBuffer<M> temp(long floats) {
        long cap = BufferPool.sizeClass(floats);
        return new GpuBuffer<>(this, dev.pool().take(cap), floats, cap);
    }

    @Override
    public DeviceBuffer allocate(long floats) {
        if (floats < 0) throw new IllegalArgumentException("negative size " + floats);
        GpuBuffer<M> b = temp(floats);
        launch1("sk_fill", b.capacity, b, 0L, b.capacity, 0f);
        return b;
    }

    @Override
    public DeviceBuffer upload(float[] src) {
        GpuBuffer<M> b = temp(src.length);
        if (src.length > 0) dev.write(b.mem(), 0, src, 0, src.length);
        return b;
    }

    @Override
    public DeviceBuffer upload(MemorySegment src) {
        if (src.byteSize() % 4 != 0) throw new IllegalArgumentException("byte size " + src.byteSize() + " is not a multiple of 4");
        GpuBuffer<M> b = temp(src.byteSize() / 4);
        transfer(b, src, true);
        return b;
    }

    @Override
    public DeviceBuffer map(MemorySegment src) {
        return upload(src); // device memory cannot alias host memory portably: a copy
    }

    /** Copies between the buffer and a segment in chunks (ByteBuffers stop at 2 GiB; heap segments go through native memory). */
    private void transfer(GpuBuffer<M> b, MemorySegment seg, boolean toDevice) {
        long total = Math.min(seg.byteSize(), b.size() * 4);
        final long chunk = 1L << 26;
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment staging = seg.isNative() ? null : arena.allocate(Math.min(chunk, Math.max(total, 1)), 8);
            for (long off = 0; off < total; off += chunk) {
                long len = Math.min(chunk, total - off);
                MemorySegment part = seg.asSlice(off, len);
                MemorySegment io = staging == null ? part : staging.asSlice(0, len);
                if (toDevice) {
                    if (staging != null) MemorySegment.copy(part, 0, io, 0, len);
                    dev.write(b.mem(), off, io.asByteBuffer());
                } else {
                    dev.read(b.mem(), off, io.asByteBuffer());
                    if (staging != null) MemorySegment.copy(io, 0, part, 0, len);
                }
            }
        }
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        GpuBuffer<M> b = need(src, srcOffset, count, "download");
        if (dstOffset < 0 || dstOffset + count > dst.length) throw new IndexOutOfBoundsException("download into float[" + dst.length + "]");
        if (count == 0) {
            dev.finish();
            return;
        }
        dev.read(b.mem(), srcOffset * 4, dst, dstOffset, count);
    }

    @Override
    public void download(DeviceBuffer src, MemorySegment dst) {
        GpuBuffer<M> b = cl(src);
        if (dst.byteSize() < b.size() * 4) throw new IndexOutOfBoundsException("download of " + b.size() + " floats into " + dst.byteSize() + " bytes");
        if (b.size() == 0) {
            dev.finish();
            return;
        }
        transfer(b, dst, false);
    }

    @Override
    public void fill(DeviceBuffer dst, long offset, long count, float value) {
        GpuBuffer<M> b = need(dst, offset, count, "fill");
        launch1("sk_fill", count, b, offset, count, value);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        GpuBuffer<M> s = cl(src), d = cl(dst);
        checkReach(s, srcOffset, srcStrides, shape, "copy source");
        checkReach(d, dstOffset, dstStrides, shape, "copy destination");
        strided(shape, srcStrides, null, dstStrides, srcOffset, 0, dstOffset, (st, count) -> launch1("sk_copy", count, s, d, st));
    }

    // ================================================================== strided views

    private interface StridedLaunch {
        void run(byte[] struct, long count);
    }

    private static final int MAX_RANK = 6; // SK_MAX_RANK in sk_dialect.h

    /**
     * Drops size-1 dimensions, merges dimensions that are contiguous in every operand, and launches
     * with the sk_strided_t struct; more than 6 dimensions left loop on the host over the leading ones.
     */
    private static void strided(int[] shape, long[] sa, long[] sb, long[] so, long offA, long offB, long offO, StridedLaunch l) {
        int r = shape.length;
        long[] dims = new long[r], a = new long[r], b = new long[r], o = new long[r];
        int n = 0;
        for (int i = 0; i < r; i++) {
            if (shape[i] == 0) return;
            if (shape[i] == 1) continue;
            long oi = so != null ? so[i] : 0;
            long bi = sb != null ? sb[i] : 0;
            if (n > 0 && a[n - 1] == sa[i] * shape[i] && b[n - 1] == bi * shape[i] && (so == null || o[n - 1] == oi * shape[i])) {
                dims[n - 1] *= shape[i];
                a[n - 1] = sa[i];
                b[n - 1] = bi;
                o[n - 1] = oi;
            } else {
                dims[n] = shape[i];
                a[n] = sa[i];
                b[n] = bi;
                o[n] = oi;
                n++;
            }
        }
        if (so == null) { // binary: the output is contiguous over the original shape; recompute its strides
            long s = 1;
            for (int i = n - 1; i >= 0; i--) {
                o[i] = s;
                s *= dims[i];
            }
        }
        loop(dims, a, b, o, n, 0, offA, offB, offO, l);
    }

    private static void loop(long[] dims, long[] a, long[] b, long[] o, int n, int first, long offA, long offB, long offO, StridedLaunch l) {
        if (n - first > MAX_RANK) {
            for (long i = 0; i < dims[first]; i++) {
                loop(dims, a, b, o, n, first + 1, offA + i * a[first], offB + i * b[first], offO + i * o[first], l);
            }
            return;
        }
        int rank = n - first;
        long[] st = new long[4 * MAX_RANK + 5];
        long count = 1;
        for (int i = 0; i < rank; i++) {
            st[i] = dims[first + i];
            st[MAX_RANK + i] = a[first + i];
            st[2 * MAX_RANK + i] = b[first + i];
            st[3 * MAX_RANK + i] = o[first + i];
            count *= dims[first + i];
        }
        st[4 * MAX_RANK] = rank;
        st[4 * MAX_RANK + 1] = count;
        st[4 * MAX_RANK + 2] = offA;
        st[4 * MAX_RANK + 3] = offB;
        st[4 * MAX_RANK + 4] = offO;
        l.run(longs(st), count);
    }

    private static void checkReach(DeviceBuffer buf, long offset, long[] strides, int[] shape, String what) {
        long lo = offset, hi = offset;
        for (int i = 0; i < shape.length; i++) {
            if (shape[i] == 0) return;
            long span = (shape[i] - 1L) * strides[i];
            if (span > 0) hi += span; else lo += span;
        }
        if (lo < 0 || hi >= buf.size()) {
            throw new IndexOutOfBoundsException(what + " reaches elements [" + lo + ", " + hi + "] of a buffer of " + buf.size());
        }
    }

    // ================================================================== dense algebra

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, DeviceBuffer a, long strideA,
                     DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        GpuBuffer<M> ca = need(a, (batch - 1) * strideA + (long) m * k, "gemm A");
        GpuBuffer<M> cb = need(b, (batch - 1) * strideB + (long) k * n, "gemm B");
        GpuBuffer<M> cc = need(c, (long) batch * m * n, "gemm C");
        if (k == 0) { // an empty sum: C = beta C + bias
            for (int p = 0; p < batch; p++) {
                if (beta == 0) fill(c, (long) p * m * n, (long) m * n, 0f);
                else if (beta != 1) launch1("sk_affine", (long) m * n, cc, cc, (long) m * n, beta, 0f);
            }
            if (bias != null) {
                binary(BinaryOp.ADD, c, new long[] {n, 1}, bias, new long[] {0, 1}, c, new int[] {batch * m, n});
            }
            return;
        }
        gemmRaw(transA, transB, batch, m, n, k, alpha, ca, strideA, cb, strideB, beta, cc, bias == null ? null : need(bias, n, "gemm bias"));
    }

    /**
     * C = alpha op(A) op(B) + beta C (+ bias per column) with k > 0 and every range checked: the tiled
     * sk_gemm kernel. A device with a faster GEMM (cuBLAS) overrides this.
     */
    protected void gemmRaw(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, GpuBuffer<M> a, long strideA,
                         GpuBuffer<M> b, long strideB, float beta, GpuBuffer<M> c, GpuBuffer<M> bias) {
        dev.launch("sk_gemm", new long[] {(n + 63) / 64 * 16L, (m + 63) / 64 * 16L, batch}, new long[] {16, 16, 1},
                transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, strideA, b, strideB, beta, c,
                bias == null ? dummy : bias, bias == null ? 0 : 1);
    }

    // ================================================================== elementwise

    @Override
    public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        launch1("sk_unary_fwd", count, code(op), need(x, count, "unary x"), need(y, count, "unary y"), count);
    }

    @Override
    public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        launch1("sk_unary_bwd", count, code(op), need(x, count, "unaryBackward x"), need(dy, count, "unaryBackward dy"),
                need(dx, count, "unaryBackward dx"), count);
    }

    @Override
    public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        launch1("sk_affine", count, need(x, count, "affine x"), need(y, count, "affine y"), count, alpha, beta);
    }

    @Override
    public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        broadcast(code(op), "binary", a, aStrides, b, bStrides, out, shape);
    }

    @Override
    public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        broadcast(code(op), "compare", a, aStrides, b, bStrides, out, shape); // the comparisons share sk_binary
    }

    /** out (contiguous) = a op b over strided views: sk_binary with op code {@code c}. */
    private void broadcast(int c, String what, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out,
                           int[] shape) {
        GpuBuffer<M> ca = cl(a), cb = cl(b);
        long count = 1;
        for (int s : shape) count *= s;
        GpuBuffer<M> co = need(out, count, what + " out");
        checkReach(ca, 0, aStrides, shape, what + " a");
        checkReach(cb, 0, bStrides, shape, what + " b");
        strided(shape, aStrides, bStrides, null, 0, 0, 0, (st, n) -> launch1("sk_binary", n, c, ca, cb, co, st));
    }

    /** Two passes: the operand not picked where cond is set goes into out (unless out is it), then sk_where writes the picked one. */
    @Override
    public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                       DeviceBuffer out, int[] shape) {
        GpuBuffer<M> cc = cl(cond), ca = cl(a), cb = cl(b);
        long count = 1;
        for (int s : shape) count *= s;
        GpuBuffer<M> co = need(out, count, "select out");
        checkReach(cc, 0, condStrides, shape, "select cond");
        checkReach(ca, 0, aStrides, shape, "select a");
        checkReach(cb, 0, bStrides, shape, "select b");
        boolean outIsA = out == a; // then out holds a already: write b where cond is 0
        if (!outIsA) {
            long[] contiguous = new long[shape.length];
            long st = 1;
            for (int i = shape.length - 1; i >= 0; i--) { contiguous[i] = st; st *= shape[i]; }
            strided(shape, bStrides, null, contiguous, 0, 0, 0, (s, n) -> launch1("sk_copy", n, cb, co, s));
        }
        GpuBuffer<M> picked = outIsA ? cb : ca;
        int pick = outIsA ? 0 : 1;
        strided(shape, condStrides, outIsA ? bStrides : aStrides, null, 0, 0, 0, (s, n) -> launch1("sk_where", n, pick, cc, picked, co, s));
    }

    @Override
    public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        GpuBuffer<M> cx = need(x, (long) outer * axis * inner, "reduce x"), cy = need(y, (long) outer * inner, "reduce y");
        if (inner == 1 && axis >= 64) launchRows("sk_reduce_rows", outer, code(op), cx, cy, axis);
        else launch1("sk_reduce", (long) outer * inner, code(op), cx, cy, outer, axis, inner);
    }

    // ================================================================== normalisation

    @Override
    public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        long n = (long) rows * cols;
        launchRows("sk_softmax", rows, need(x, n, "softmax x"), need(y, n, "softmax y"), cols);
    }

    @Override
    public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        long n = (long) rows * cols;
        launchRows("sk_softmax_bwd", rows, need(y, n, "softmaxBackward y"), need(dy, n, "softmaxBackward dy"),
                need(dx, n, "softmaxBackward dx"), cols);
    }

    @Override
    public void layerNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean,
                          DeviceBuffer rstd, int rows, int cols, float eps) {
        long n = (long) rows * cols;
        boolean affine = gamma != null;
        launchRows("sk_layernorm", rows, need(x, n, "layerNorm x"), opt(gamma, cols, "layerNorm gamma"),
                affine && beta != null ? need(beta, cols, "layerNorm beta") : affine ? zeros(cols) : dummy, affine ? 1 : 0,
                need(y, n, "layerNorm y"), need(mean, rows, "layerNorm mean"), need(rstd, rows, "layerNorm rstd"), cols, eps);
    }

    /** A zero vector for an affine norm with gamma but no beta (rare; not pooled per call). */
    private GpuBuffer<M> zeros(long n) {
        GpuBuffer<M> z = (GpuBuffer<M>) allocate(n);
        z.close(); // back to the pool after the kernel enqueued next (in-order queue)
        return z;
    }

    @Override
    public void layerNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int rows, int cols) {
        long n = (long) rows * cols;
        GpuBuffer<M> cx = need(x, n, "layerNormBackward x"), cm = need(mean, rows, "layerNormBackward mean"),
                cr = need(rstd, rows, "layerNormBackward rstd"), cdy = need(dy, n, "layerNormBackward dy");
        launchRows("sk_layernorm_bwd", rows, cx, opt(gamma, cols, "layerNormBackward gamma"), flag(gamma), cm, cr, cdy,
                need(dx, n, "layerNormBackward dx"), cols);
        if (gamma != null && (dgamma != null || dbeta != null)) {
            launch1("sk_layernorm_dparams", cols, cx, cm, cr, cdy, opt(dgamma, cols, "dgamma"), flag(dgamma),
                    opt(dbeta, cols, "dbeta"), flag(dbeta), rows, cols);
        }
    }

    @Override
    public void groupNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean,
                          DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) {
        long total = (long) n * c * hw;
        boolean affine = gamma != null;
        launchRows("sk_groupnorm", (long) n * groups, need(x, total, "groupNorm x"), opt(gamma, c, "groupNorm gamma"),
                affine && beta != null ? need(beta, c, "groupNorm beta") : affine ? zeros(c) : dummy, affine ? 1 : 0,
                need(y, total, "groupNorm y"), need(mean, (long) n * groups, "groupNorm mean"),
                need(rstd, (long) n * groups, "groupNorm rstd"), c, hw, groups, eps);
    }

    @Override
    public void groupNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int n, int c, int hw, int groups) {
        long total = (long) n * c * hw, stats = (long) n * groups;
        GpuBuffer<M> cx = need(x, total, "groupNormBackward x"), cm = need(mean, stats, "groupNormBackward mean"),
                cr = need(rstd, stats, "groupNormBackward rstd"), cdy = need(dy, total, "groupNormBackward dy");
        launchRows("sk_groupnorm_bwd", stats, cx, opt(gamma, c, "groupNormBackward gamma"), flag(gamma), cm, cr, cdy,
                need(dx, total, "groupNormBackward dx"), c, hw, groups);
        if (gamma != null && (dgamma != null || dbeta != null)) {
            launchRows("sk_groupnorm_dparams", c, cx, cm, cr, cdy, opt(dgamma, c, "dgamma"), flag(dgamma),
                    opt(dbeta, c, "dbeta"), flag(dbeta), n, c, hw, groups);
        }
    }

    // ================================================================== convolutions

    private GpuBuffer<M> im2col(GpuBuffer<M> x, Conv2dShape s) {
        long kk = (long) s.cin() * s.kh() * s.kw(), ohw = (long) s.outH() * s.outW();
        GpuBuffer<M> col = temp(s.n() * kk * ohw);
        launch1("sk_im2col", s.n() * kk * ohw, x, col, s.n(), s.cin(), s.h(), s.w(), s.kh(), s.kw(), s.stride(),
                s.padding(), s.outH(), s.outW());
        return col;
    }

    @Override
    public void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        GpuBuffer<M> cx = need(x, (long) s.n() * s.cin() * s.h() * s.w(), "conv2d x");
        GpuBuffer<M> cw = need(w, (long) s.cout() * kk, "conv2d w");
        GpuBuffer<M> cy = need(y, (long) s.n() * s.cout() * ohw, "conv2d y");
        try (GpuBuffer<M> col = im2col(cx, s)) {
            // y_b [cout, ohw] = W [cout, kk] col_b [kk, ohw], the weight shared (stride 0)
            gemmRaw(false, false, s.n(), s.cout(), ohw, kk, 1f, cw, 0, col, (long) kk * ohw, 0f, cy, null);
        }
        if (bias != null) {
            long total = (long) s.n() * s.cout() * ohw;
            launch1("sk_add_channel_bias", total, cy, need(bias, s.cout(), "conv2d bias"), total, s.cout(), ohw);
        }
    }

    @Override
    public void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        GpuBuffer<M> cdy = need(dy, (long) s.n() * s.cout() * ohw, "conv2dBackwardInput dy");
        GpuBuffer<M> cw = need(w, (long) s.cout() * kk, "conv2dBackwardInput w");
        GpuBuffer<M> cdx = need(dx, (long) s.n() * s.cin() * s.h() * s.w(), "conv2dBackwardInput dx");
        try (GpuBuffer<M> dcol = temp((long) s.n() * kk * ohw)) {
            // dcol_b [kk, ohw] = W^T dy_b, then col2im gathers the overlapping taps
            gemmRaw(true, false, s.n(), kk, ohw, s.cout(), 1f, cw, 0, cdy, (long) s.cout() * ohw, 0f, dcol, null);
            launch1("sk_col2im", (long) s.n() * s.cin() * s.h() * s.w(), dcol, cdx, s.n(), s.cin(), s.h(), s.w(), s.kh(),
                    s.kw(), s.stride(), s.padding(), s.outH(), s.outW());
        }
    }

    @Override
    public void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        GpuBuffer<M> cx = need(x, (long) s.n() * s.cin() * s.h() * s.w(), "conv2dBackwardWeight x");
        GpuBuffer<M> cdy = need(dy, (long) s.n() * s.cout() * ohw, "conv2dBackwardWeight dy");
        GpuBuffer<M> cdw = need(dw, (long) s.cout() * kk, "conv2dBackwardWeight dw");
        try (GpuBuffer<M> col = im2col(cx, s)) {
            if (s.n() == 1) {
                gemmRaw(false, true, 1, s.cout(), kk, ohw, 1f, cdy, 0, col, 0, 0f, cdw, null);
            } else {
                // dW = sum_b dy_b [cout, ohw] col_b^T as one GEMM over k = n * ohw: bring the batch
                // next to the pixels (dy to [cout, n, ohw], col to [kk, n, ohw]) with two strided copies.
                long nOhw = (long) s.n() * ohw;
                try (GpuBuffer<M> dyT = temp(s.cout() * nOhw); GpuBuffer<M> colT = temp(kk * nOhw)) {
                    copy(cdy, 0, new long[] {(long) s.cout() * ohw, ohw, 1}, dyT, 0, new long[] {ohw, nOhw, 1},
                            new int[] {s.n(), s.cout(), ohw});
                    copy(col, 0, new long[] {(long) kk * ohw, ohw, 1}, colT, 0, new long[] {ohw, nOhw, 1},
                            new int[] {s.n(), kk, ohw});
                    gemmRaw(false, true, 1, s.cout(), kk, (int) nOhw, 1f, dyT, 0, colT, 0, 0f, cdw, null);
                }
            }
        }
        if (dbias != null) {
            launchRows("sk_channel_sum", s.cout(), cdy, need(dbias, s.cout(), "conv2dBackwardWeight dbias"), s.n(), s.cout(), ohw);
        }
    }

    @Override
    public void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, int b, int l, int c, int k) {
        long n = (long) b * l * c;
        launch1("sk_dwconv1d", n, need(x, n, "conv1d x"), need(w, (long) c * k, "conv1d w"), opt(bias, c, "conv1d bias"),
                flag(bias), need(y, n, "conv1d y"), b, l, c, k);
    }

    @Override
    public void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw,
                                              DeviceBuffer dbias, int b, int l, int c, int k) {
        long n = (long) b * l * c;
        GpuBuffer<M> cx = need(x, n, "conv1d backward x"), cw = need(w, (long) c * k, "conv1d backward w"),
                cdy = need(dy, n, "conv1d backward dy");
        launch1("sk_dwconv1d_dx", n, cw, cdy, need(dx, n, "conv1d backward dx"), b, l, c, k);
        launch1("sk_dwconv1d_dw", (long) c * (k + 1), cx, cdy, need(dw, (long) c * k, "conv1d backward dw"),
                opt(dbias, c, "conv1d backward dbias"), flag(dbias), b, l, c, k);
    }

    // ================================================================== indexing

    private record IndexKey(int[] index, int axis, boolean csr) {
        @Override
        public boolean equals(Object o) {
            return o instanceof IndexKey k && k.axis == axis && k.csr == csr && Arrays.equals(k.index, index);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(index) * 31 + axis * 2 + (csr ? 1 : 0);
        }

        /** The key kept in the cache owns its array (the caller may reuse its own). */
        IndexKey copy() {
            return new IndexKey(index.clone(), axis, csr);
        }
    }

    /** The index array on the device (gather), or its inverse as CSR (scatter): uploaded once per content. */
    private List<M> indexBuffers(int[] index, int axis, boolean csr) {
        IndexKey key = new IndexKey(index, axis, csr);
        synchronized (indexCache) {
            List<M> hit = indexCache.get(key);
            if (hit != null) return hit;
        }
        for (int i : index) {
            if (i < 0 || i >= axis) throw new IndexOutOfBoundsException("index " + i + " outside an axis of " + axis);
        }
        List<M> ms;
        if (!csr) {
            ms = List.of(uploadInts(index));
        } else {
            int[] start = new int[axis + 1];
            for (int i : index) start[i + 1]++;
            for (int j = 0; j < axis; j++) start[j + 1] += start[j];
            int[] fillAt = Arrays.copyOf(start, axis);
            int[] list = new int[Math.max(1, index.length)];
            for (int i = 0; i < index.length; i++) list[fillAt[index[i]]++] = i;
            ms = List.of(uploadInts(start), uploadInts(list));
        }
        synchronized (indexCache) {
            indexCache.put(key.copy(), ms);
            if (indexCache.size() > 64) {
                var eldest = indexCache.entrySet().iterator();
                List<M> old = eldest.next().getValue();
                eldest.remove();
                dev.finish(); // no kernel may still read it
                for (M m : old) dev.release(m);
            }
        }
        return ms;
    }

    private M uploadInts(int[] v) {
        M m = dev.createBuffer(Math.max(1, v.length) * 4L);
        if (v.length > 0) dev.write(m, v);
        return m;
    }

    @Override
    public void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        long n = (long) outer * index.length * inner;
        GpuBuffer<M> s = need(src, (long) outer * srcAxis * inner, "gather src"), d = need(dst, n, "gather dst");
        List<M> idx = indexBuffers(index, srcAxis, false);
        launch1("sk_gather", n, s, d, idx.get(0), outer, srcAxis, index.length, inner);
    }

    @Override
    public void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        long n = (long) outer * dstAxis * inner;
        GpuBuffer<M> s = need(src, (long) outer * index.length * inner, "scatterAdd src"), d = need(dst, n, "scatterAdd dst");
        List<M> csr = indexBuffers(index, dstAxis, true);
        launch1("sk_scatter_add", n, s, d, csr.get(0), csr.get(1), outer, dstAxis, index.length, inner);
    }

    // ================================================================== Mamba

    private void checkState(int n) {
        if (n > SCAN_MAX_STATE) {
            throw new UnsupportedOperationException("selective scan with " + n + " states: the " + name() + " kernel keeps at most "
                    + SCAN_MAX_STATE + " in private memory");
        }
    }

    @Override
    public void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d,
                              DeviceBuffer y, int b, int l, int e, int n) {
        checkState(n);
        long ble = (long) b * l * e, bln = (long) b * l * n;
        scanForward(n, b, e, need(u, ble, "scan u"), need(delta, ble, "scan delta"), need(a, (long) e * n, "scan a"),
                need(bm, bln, "scan B"), need(cm, bln, "scan C"), opt(d, e, "scan D"), flag(d), need(y, ble, "scan y"), dummy, 0, b, l, e, n);
    }

    @Override
    public void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                                      DeviceBuffer d, DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da,
                                      DeviceBuffer dbm, DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        checkState(n);
        long ble = (long) b * l * e, bln = (long) b * l * n;
        GpuBuffer<M> cu = need(u, ble, "scan u"), cdelta = need(delta, ble, "scan delta"), ca = need(a, (long) e * n, "scan a"),
                cb = need(bm, bln, "scan B"), cc = need(cm, bln, "scan C"), cdy = need(dy, ble, "scan dy");
        Object cd = opt(d, e, "scan D");
        try (GpuBuffer<M> states = temp(bln * e); GpuBuffer<M> daPart = temp((long) b * e * n); GpuBuffer<M> ddPart = temp((long) b * e)) {
            scanForward(n, b, e, cu, cdelta, ca, cb, cc, cd, flag(d), dummy, states, 1, b, l, e, n);
            launchRows("sk_weighted_rows", bln, cdy, states, need(dcm, bln, "scan dC"), n, e);
            launch1(scanKernel("sk_scan_bwd", n), (long) b * e, cu, cdelta, ca, cb, cc, cd, flag(d), cdy, states,
                    need(du, ble, "scan du"), need(ddelta, ble, "scan ddelta"), daPart, ddPart, b, l, e, n);
            GpuBuffer<M> cdbm = need(dbm, bln, "scan dB");
            if (e >= 64) launchRows("sk_reduce_rows", bln, SUM, states, cdbm, e);
            else launch1("sk_reduce", bln, SUM, states, cdbm, (int) bln, e, 1);
            launch1("sk_reduce", (long) e * n, SUM, daPart, need(da, (long) e * n, "scan dA"), 1, b, e * n);
            if (dd != null) launch1("sk_reduce", e, SUM, ddPart, need(dd, e, "scan dD"), 1, b, e);
        }
    }

    // ================================================================== training

    @Override
    public void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count, float lr, float beta1,
                      float beta2, float eps, float weightDecay, long step) {
        float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        launch1("sk_adamw", count, need(param, count, "adamw param"), need(grad, count, "adamw grad"), need(m, count, "adamw m"),
                need(v, count, "adamw v"), count, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    @Override
    public void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        launch1("sk_random_uniform", count, need(dst, count, "randomUniform"), count, seed, offset);
    }

    @Override
    public void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        launch1("sk_random_normal", count, need(dst, count, "randomNormal"), count, seed, offset);
    }
}
