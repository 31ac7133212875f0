package dev.sisma.engine.opencl.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.jocl.Pointer;
import org.jocl.cl_mem;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.BufferPool;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The SPI on one OpenCL device. Every call enqueues kernels on one in-order queue and returns;
 * {@code download} blocks, so it sees every earlier call complete. Host-device copies happen
 * only in upload/map/download (and once per distinct gather/scatter index array, cached).
 * Buffer ranges are checked on the host before a kernel runs: on a CPU driver such as PoCL the
 * kernels run inside this process, where an out-of-range write would corrupt the JVM.
 */
public final class OpenClBackend implements Backend, AutoCloseable {
    private static final int SCAN_MAX_STATE = 64; // SK_MAX_STATE in scan.cl
    private final ClRuntime rt;
    /** A one-float buffer bound where a nullable argument is null (kernels get a has-flag too). */
    private final ClBuffer dummy;
    /** Uploaded gather indices and scatter CSRs by content (the scan orders: a handful). */
    private final Map<IndexKey, cl_mem[]> indexCache = new LinkedHashMap<>(16, 0.75f, true);

    /** "opencl" for the default device, "opencl:P:D" for the others (see OpenClComponent). */
    private final String name;

    OpenClBackend(ClRuntime rt) {
        this(rt, "opencl");
    }

    OpenClBackend(ClRuntime rt, String name) {
        this.rt = rt;
        this.name = name;
        this.dummy = (ClBuffer) allocate(1);
    }

    /** Opens the configured device (indices -1 = automatic), or says why it cannot. */
    public static OpenClBackend open(int platform, int device) throws ClRuntime.Unavailable {
        return new OpenClBackend(ClRuntime.open(platform, device));
    }

    /** Opens platform {@code platform}, device {@code device} (both >= 0) under the name {@code opencl:P:D}. */
    public static OpenClBackend openQualified(int platform, int device) throws ClRuntime.Unavailable {
        return new OpenClBackend(ClRuntime.open(platform, device), qualifiedName(platform, device));
    }

    /** The name a device answers to whether or not it is the default: {@code opencl:P:D}. */
    public static String qualifiedName(int platform, int device) {
        return "opencl:" + platform + ":" + device;
    }

    /** {@code opencl:P:D} of this device. */
    public String qualifiedName() {
        return qualifiedName(rt.info.platformIndex(), rt.info.deviceIndex());
    }

    ClRuntime runtime() {
        return rt;
    }

    /** True for a GPU (ranking 20), false for a CPU or other device (ranking -10). */
    public boolean isGpu() {
        return rt.info.gpu();
    }

    @Override
    public String name() {
        return name;
    }

    @Override
    public String device() {
        return rt.info.toString();
    }

    /** Blocks until every enqueued call is complete (benchmarks). */
    public void finish() {
        rt.finish();
    }

    /** clCreateBuffer calls so far: a steady loop adds none (buffer pool). */
    public long buffersCreated() {
        return rt.pool.created();
    }

    @Override
    public void close() {
        synchronized (indexCache) {
            for (cl_mem[] ms : indexCache.values()) for (cl_mem m : ms) rt.release(m);
            indexCache.clear();
        }
        rt.close();
    }

    // ================================================================== memory

    private ClBuffer cl(DeviceBuffer b) {
        if (b instanceof ClBuffer c && c.owner == this) return c;
        throw new IllegalArgumentException("buffer " + b + " does not belong to the opencl backend");
    }

    /** Checks that elements [offset, offset + count) lie inside b (see the class comment). */
    private ClBuffer need(DeviceBuffer b, long offset, long count, String what) {
        ClBuffer c = cl(b);
        if (offset < 0 || count < 0 || offset + count > c.size()) {
            throw new IndexOutOfBoundsException(what + ": elements [" + offset + ", " + (offset + count)
                    + ") outside a buffer of " + c.size());
        }
        return c;
    }

    private ClBuffer need(DeviceBuffer b, long count, String what) {
        return need(b, 0, count, what);
    }

    private Object opt(DeviceBuffer b, long count, String what) {
        return b == null ? dummy : need(b, count, what);
    }

    private static int flag(DeviceBuffer b) {
        return b == null ? 0 : 1;
    }

    /** Uninitialised scratch memory from the pool; close it after enqueueing its last use. */
    private ClBuffer temp(long floats) {
        long cap = BufferPool.sizeClass(floats);
        return new ClBuffer(this, rt.pool.take(cap), floats, cap);
    }

    @Override
    public DeviceBuffer allocate(long floats) {
        if (floats < 0) throw new IllegalArgumentException("negative size " + floats);
        ClBuffer b = temp(floats);
        rt.launch1("sk_fill", b.capacity, b, 0L, b.capacity, 0f);
        return b;
    }

    @Override
    public DeviceBuffer upload(float[] src) {
        ClBuffer b = temp(src.length);
        if (src.length > 0) rt.write(b.mem(), 0, src.length * 4L, Pointer.to(src));
        return b;
    }

    @Override
    public DeviceBuffer upload(MemorySegment src) {
        if (src.byteSize() % 4 != 0) throw new IllegalArgumentException("byte size " + src.byteSize() + " is not a multiple of 4");
        ClBuffer b = temp(src.byteSize() / 4);
        transfer(b, src, true);
        return b;
    }

    @Override
    public DeviceBuffer map(MemorySegment src) {
        return upload(src); // device memory cannot alias host memory portably: a copy
    }

    /** Copies between the buffer and a segment in chunks (ByteBuffers stop at 2 GiB; heap segments go through native memory). */
    private void transfer(ClBuffer b, MemorySegment seg, boolean toDevice) {
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
                    rt.write(b.mem(), off, len, Pointer.to(io.asByteBuffer()));
                } else {
                    rt.read(b.mem(), off, len, Pointer.to(io.asByteBuffer()));
                    if (staging != null) MemorySegment.copy(io, 0, part, 0, len);
                }
            }
        }
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        ClBuffer b = need(src, srcOffset, count, "download");
        if (dstOffset < 0 || dstOffset + count > dst.length) throw new IndexOutOfBoundsException("download into float[" + dst.length + "]");
        if (count == 0) {
            rt.finish();
            return;
        }
        rt.read(b.mem(), srcOffset * 4, count * 4L, Pointer.to(dst).withByteOffset(dstOffset * 4L));
    }

    @Override
    public void download(DeviceBuffer src, MemorySegment dst) {
        ClBuffer b = cl(src);
        if (dst.byteSize() < b.size() * 4) throw new IndexOutOfBoundsException("download of " + b.size() + " floats into " + dst.byteSize() + " bytes");
        if (b.size() == 0) {
            rt.finish();
            return;
        }
        transfer(b, dst, false);
    }

    @Override
    public void fill(DeviceBuffer dst, long offset, long count, float value) {
        ClBuffer b = need(dst, offset, count, "fill");
        rt.launch1("sk_fill", count, b, offset, count, value);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        ClBuffer s = cl(src), d = cl(dst);
        checkReach(s, srcOffset, srcStrides, shape, "copy source");
        checkReach(d, dstOffset, dstStrides, shape, "copy destination");
        strided(shape, srcStrides, null, dstStrides, srcOffset, 0, dstOffset, (st, count) -> rt.launch1("sk_copy", count, s, d, st));
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
        l.run(ClRuntime.longs(st), count);
    }

    private static void checkReach(ClBuffer buf, long offset, long[] strides, int[] shape, String what) {
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
        ClBuffer ca = need(a, (batch - 1) * strideA + (long) m * k, "gemm A");
        ClBuffer cb = need(b, (batch - 1) * strideB + (long) k * n, "gemm B");
        ClBuffer cc = need(c, (long) batch * m * n, "gemm C");
        if (k == 0) { // an empty sum: C = beta C + bias
            for (int p = 0; p < batch; p++) {
                if (beta == 0) fill(c, (long) p * m * n, (long) m * n, 0f);
                else if (beta != 1) rt.launch1("sk_affine", (long) m * n, cc, cc, (long) m * n, beta, 0f);
            }
            if (bias != null) {
                binary(BinaryOp.ADD, c, new long[] {n, 1}, bias, new long[] {0, 1}, c, new int[] {batch * m, n});
            }
            return;
        }
        gemmRaw(transA, transB, batch, m, n, k, alpha, ca, strideA, cb, strideB, beta, cc, bias == null ? null : need(bias, n, "gemm bias"));
    }

    private void gemmRaw(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, ClBuffer a, long strideA,
                         ClBuffer b, long strideB, float beta, ClBuffer c, ClBuffer bias) {
        rt.launch("sk_gemm", new long[] {(n + 63) / 64 * 16L, (m + 63) / 64 * 16L, batch}, new long[] {16, 16, 1},
                transA ? 1 : 0, transB ? 1 : 0, m, n, k, alpha, a, strideA, b, strideB, beta, c,
                bias == null ? dummy : bias, bias == null ? 0 : 1);
    }

    // ================================================================== elementwise

    private static int code(UnaryOp op) {
        return switch (op) {
            case NEG -> 0;
            case EXP -> 1;
            case LOG -> 2;
            case SQRT -> 3;
            case RSQRT -> 4;
            case ABS -> 5;
            case SIN -> 6;
            case COS -> 7;
            case TANH -> 8;
            case SIGMOID -> 9;
            case SILU -> 10;
            case SOFTPLUS -> 11;
            case GELU_TANH -> 12;
            case RELU -> 13;
            case SQUARE -> 14;
            case RECIPROCAL -> 15;
        };
    }

    private static int code(BinaryOp op) {
        return switch (op) {
            case ADD -> 0;
            case SUB -> 1;
            case MUL -> 2;
            case DIV -> 3;
            case MAX -> 4;
            case MIN -> 5;
        };
    }

    @Override
    public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        rt.launch1("sk_unary_fwd", count, code(op), need(x, count, "unary x"), need(y, count, "unary y"), count);
    }

    @Override
    public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        rt.launch1("sk_unary_bwd", count, code(op), need(x, count, "unaryBackward x"), need(dy, count, "unaryBackward dy"),
                need(dx, count, "unaryBackward dx"), count);
    }

    @Override
    public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        rt.launch1("sk_affine", count, need(x, count, "affine x"), need(y, count, "affine y"), count, alpha, beta);
    }

    @Override
    public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        ClBuffer ca = cl(a), cb = cl(b);
        long count = 1;
        for (int s : shape) count *= s;
        ClBuffer co = need(out, count, "binary out");
        checkReach(ca, 0, aStrides, shape, "binary a");
        checkReach(cb, 0, bStrides, shape, "binary b");
        int c = code(op);
        strided(shape, aStrides, bStrides, null, 0, 0, 0, (st, n) -> rt.launch1("sk_binary", n, c, ca, cb, co, st));
    }

    @Override
    public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        ClBuffer ca = cl(a), cb = cl(b);
        long count = 1;
        for (int s : shape) count *= s;
        ClBuffer co = need(out, count, "compare out");
        checkReach(ca, 0, aStrides, shape, "compare a");
        checkReach(cb, 0, bStrides, shape, "compare b");
        int c = 6 + op.ordinal(); // SK_EQ .. SK_GE in elementwise.cl, in CompareOp's order
        strided(shape, aStrides, bStrides, null, 0, 0, 0, (st, n) -> rt.launch1("sk_binary", n, c, ca, cb, co, st));
    }

    /** Two passes: the operand not picked where cond is set goes into out (unless out is it), then sk_where writes the picked one. */
    @Override
    public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                       DeviceBuffer out, int[] shape) {
        ClBuffer cc = cl(cond), ca = cl(a), cb = cl(b);
        long count = 1;
        for (int s : shape) count *= s;
        ClBuffer co = need(out, count, "select out");
        checkReach(cc, 0, condStrides, shape, "select cond");
        checkReach(ca, 0, aStrides, shape, "select a");
        checkReach(cb, 0, bStrides, shape, "select b");
        boolean outIsA = out == a; // then out holds a already: write b where cond is 0
        if (!outIsA) {
            long[] contiguous = new long[shape.length];
            long st = 1;
            for (int i = shape.length - 1; i >= 0; i--) { contiguous[i] = st; st *= shape[i]; }
            strided(shape, bStrides, null, contiguous, 0, 0, 0, (s, n) -> rt.launch1("sk_copy", n, cb, co, s));
        }
        ClBuffer picked = outIsA ? cb : ca;
        int pick = outIsA ? 0 : 1;
        strided(shape, condStrides, outIsA ? bStrides : aStrides, null, 0, 0, 0, (s, n) -> rt.launch1("sk_where", n, pick, cc, picked, co, s));
    }

    private static int code(ReduceOp op) {
        return switch (op) {
            case SUM -> 0;
            case MEAN -> 1;
            case MAX -> 2;
        };
    }

    @Override
    public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        ClBuffer cx = need(x, (long) outer * axis * inner, "reduce x"), cy = need(y, (long) outer * inner, "reduce y");
        if (inner == 1 && axis >= 64) rt.launchRows("sk_reduce_rows", outer, code(op), cx, cy, axis);
        else rt.launch1("sk_reduce", (long) outer * inner, code(op), cx, cy, outer, axis, inner);
    }

    // ================================================================== normalisation

    @Override
    public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        long n = (long) rows * cols;
        rt.launchRows("sk_softmax", rows, need(x, n, "softmax x"), need(y, n, "softmax y"), cols);
    }

    @Override
    public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        long n = (long) rows * cols;
        rt.launchRows("sk_softmax_bwd", rows, need(y, n, "softmaxBackward y"), need(dy, n, "softmaxBackward dy"),
                need(dx, n, "softmaxBackward dx"), cols);
    }

    @Override
    public void layerNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean,
                          DeviceBuffer rstd, int rows, int cols, float eps) {
        long n = (long) rows * cols;
        boolean affine = gamma != null;
        rt.launchRows("sk_layernorm", rows, need(x, n, "layerNorm x"), opt(gamma, cols, "layerNorm gamma"),
                affine && beta != null ? need(beta, cols, "layerNorm beta") : affine ? zeros(cols) : dummy, affine ? 1 : 0,
                need(y, n, "layerNorm y"), need(mean, rows, "layerNorm mean"), need(rstd, rows, "layerNorm rstd"), cols, eps);
    }

    /** A zero vector for an affine norm with gamma but no beta (rare; not pooled per call). */
    private ClBuffer zeros(long n) {
        ClBuffer z = (ClBuffer) allocate(n);
        z.close(); // back to the pool after the kernel enqueued next (in-order queue)
        return z;
    }

    @Override
    public void layerNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int rows, int cols) {
        long n = (long) rows * cols;
        ClBuffer cx = need(x, n, "layerNormBackward x"), cm = need(mean, rows, "layerNormBackward mean"),
                cr = need(rstd, rows, "layerNormBackward rstd"), cdy = need(dy, n, "layerNormBackward dy");
        rt.launchRows("sk_layernorm_bwd", rows, cx, opt(gamma, cols, "layerNormBackward gamma"), flag(gamma), cm, cr, cdy,
                need(dx, n, "layerNormBackward dx"), cols);
        if (gamma != null && (dgamma != null || dbeta != null)) {
            rt.launch1("sk_layernorm_dparams", cols, cx, cm, cr, cdy, opt(dgamma, cols, "dgamma"), flag(dgamma),
                    opt(dbeta, cols, "dbeta"), flag(dbeta), rows, cols);
        }
    }

    @Override
    public void groupNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean,
                          DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) {
        long total = (long) n * c * hw;
        boolean affine = gamma != null;
        rt.launchRows("sk_groupnorm", (long) n * groups, need(x, total, "groupNorm x"), opt(gamma, c, "groupNorm gamma"),
                affine && beta != null ? need(beta, c, "groupNorm beta") : affine ? zeros(c) : dummy, affine ? 1 : 0,
                need(y, total, "groupNorm y"), need(mean, (long) n * groups, "groupNorm mean"),
                need(rstd, (long) n * groups, "groupNorm rstd"), c, hw, groups, eps);
    }

    @Override
    public void groupNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int n, int c, int hw, int groups) {
        long total = (long) n * c * hw, stats = (long) n * groups;
        ClBuffer cx = need(x, total, "groupNormBackward x"), cm = need(mean, stats, "groupNormBackward mean"),
                cr = need(rstd, stats, "groupNormBackward rstd"), cdy = need(dy, total, "groupNormBackward dy");
        rt.launchRows("sk_groupnorm_bwd", stats, cx, opt(gamma, c, "groupNormBackward gamma"), flag(gamma), cm, cr, cdy,
                need(dx, total, "groupNormBackward dx"), c, hw, groups);
        if (gamma != null && (dgamma != null || dbeta != null)) {
            rt.launchRows("sk_groupnorm_dparams", c, cx, cm, cr, cdy, opt(dgamma, c, "dgamma"), flag(dgamma),
                    opt(dbeta, c, "dbeta"), flag(dbeta), n, c, hw, groups);
        }
    }

    // ================================================================== convolutions

    private ClBuffer im2col(ClBuffer x, Conv2dShape s) {
        long kk = (long) s.cin() * s.kh() * s.kw(), ohw = (long) s.outH() * s.outW();
        ClBuffer col = temp(s.n() * kk * ohw);
        rt.launch1("sk_im2col", s.n() * kk * ohw, x, col, s.n(), s.cin(), s.h(), s.w(), s.kh(), s.kw(), s.stride(),
                s.padding(), s.outH(), s.outW());
        return col;
    }

    @Override
    public void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        ClBuffer cx = need(x, (long) s.n() * s.cin() * s.h() * s.w(), "conv2d x");
        ClBuffer cw = need(w, (long) s.cout() * kk, "conv2d w");
        ClBuffer cy = need(y, (long) s.n() * s.cout() * ohw, "conv2d y");
        try (ClBuffer col = im2col(cx, s)) {
            // y_b [cout, ohw] = W [cout, kk] col_b [kk, ohw], the weight shared (stride 0)
            gemmRaw(false, false, s.n(), s.cout(), ohw, kk, 1f, cw, 0, col, (long) kk * ohw, 0f, cy, null);
        }
        if (bias != null) {
            long total = (long) s.n() * s.cout() * ohw;
            rt.launch1("sk_add_channel_bias", total, cy, need(bias, s.cout(), "conv2d bias"), total, s.cout(), ohw);
        }
    }

    @Override
    public void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        ClBuffer cdy = need(dy, (long) s.n() * s.cout() * ohw, "conv2dBackwardInput dy");
        ClBuffer cw = need(w, (long) s.cout() * kk, "conv2dBackwardInput w");
        ClBuffer cdx = need(dx, (long) s.n() * s.cin() * s.h() * s.w(), "conv2dBackwardInput dx");
        try (ClBuffer dcol = temp((long) s.n() * kk * ohw)) {
            // dcol_b [kk, ohw] = W^T dy_b, then col2im gathers the overlapping taps
            gemmRaw(true, false, s.n(), kk, ohw, s.cout(), 1f, cw, 0, cdy, (long) s.cout() * ohw, 0f, dcol, null);
            rt.launch1("sk_col2im", (long) s.n() * s.cin() * s.h() * s.w(), dcol, cdx, s.n(), s.cin(), s.h(), s.w(), s.kh(),
                    s.kw(), s.stride(), s.padding(), s.outH(), s.outW());
        }
    }

    @Override
    public void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        int kk = s.cin() * s.kh() * s.kw(), ohw = s.outH() * s.outW();
        ClBuffer cx = need(x, (long) s.n() * s.cin() * s.h() * s.w(), "conv2dBackwardWeight x");
        ClBuffer cdy = need(dy, (long) s.n() * s.cout() * ohw, "conv2dBackwardWeight dy");
        ClBuffer cdw = need(dw, (long) s.cout() * kk, "conv2dBackwardWeight dw");
        try (ClBuffer col = im2col(cx, s)) {
            if (s.n() == 1) {
                gemmRaw(false, true, 1, s.cout(), kk, ohw, 1f, cdy, 0, col, 0, 0f, cdw, null);
            } else {
                // dW = sum_b dy_b [cout, ohw] col_b^T as one GEMM over k = n * ohw: bring the batch
                // next to the pixels (dy to [cout, n, ohw], col to [kk, n, ohw]) with two strided copies.
                long nOhw = (long) s.n() * ohw;
                try (ClBuffer dyT = temp(s.cout() * nOhw); ClBuffer colT = temp(kk * nOhw)) {
                    copy(cdy, 0, new long[] {(long) s.cout() * ohw, ohw, 1}, dyT, 0, new long[] {ohw, nOhw, 1},
                            new int[] {s.n(), s.cout(), ohw});
                    copy(col, 0, new long[] {(long) kk * ohw, ohw, 1}, colT, 0, new long[] {ohw, nOhw, 1},
                            new int[] {s.n(), kk, ohw});
                    gemmRaw(false, true, 1, s.cout(), kk, (int) nOhw, 1f, dyT, 0, colT, 0, 0f, cdw, null);
                }
            }
        }
        if (dbias != null) {
            rt.launchRows("sk_channel_sum", s.cout(), cdy, need(dbias, s.cout(), "conv2dBackwardWeight dbias"), s.n(), s.cout(), ohw);
        }
    }

    @Override
    public void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, int b, int l, int c, int k) {
        long n = (long) b * l * c;
        rt.launch1("sk_dwconv1d", n, need(x, n, "conv1d x"), need(w, (long) c * k, "conv1d w"), opt(bias, c, "conv1d bias"),
                flag(bias), need(y, n, "conv1d y"), b, l, c, k);
    }

    @Override
    public void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw,
                                              DeviceBuffer dbias, int b, int l, int c, int k) {
        long n = (long) b * l * c;
        ClBuffer cx = need(x, n, "conv1d backward x"), cw = need(w, (long) c * k, "conv1d backward w"),
                cdy = need(dy, n, "conv1d backward dy");
        rt.launch1("sk_dwconv1d_dx", n, cw, cdy, need(dx, n, "conv1d backward dx"), b, l, c, k);
        rt.launch1("sk_dwconv1d_dw", (long) c * (k + 1), cx, cdy, need(dw, (long) c * k, "conv1d backward dw"),
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
    private cl_mem[] indexBuffers(int[] index, int axis, boolean csr) {
        IndexKey key = new IndexKey(index, axis, csr);
        synchronized (indexCache) {
            cl_mem[] hit = indexCache.get(key);
            if (hit != null) return hit;
        }
        for (int i : index) {
            if (i < 0 || i >= axis) throw new IndexOutOfBoundsException("index " + i + " outside an axis of " + axis);
        }
        cl_mem[] ms;
        if (!csr) {
            ms = new cl_mem[] {uploadInts(index)};
        } else {
            int[] start = new int[axis + 1];
            for (int i : index) start[i + 1]++;
            for (int j = 0; j < axis; j++) start[j + 1] += start[j];
            int[] fillAt = Arrays.copyOf(start, axis);
            int[] list = new int[Math.max(1, index.length)];
            for (int i = 0; i < index.length; i++) list[fillAt[index[i]]++] = i;
            ms = new cl_mem[] {uploadInts(start), uploadInts(list)};
        }
        synchronized (indexCache) {
            indexCache.put(key.copy(), ms);
            if (indexCache.size() > 64) {
                var eldest = indexCache.entrySet().iterator();
                cl_mem[] old = eldest.next().getValue();
                eldest.remove();
                rt.finish(); // no kernel may still read it
                for (cl_mem m : old) rt.release(m);
            }
        }
        return ms;
    }

    private cl_mem uploadInts(int[] v) {
        cl_mem m = rt.createBuffer(Math.max(1, v.length) * 4L);
        if (v.length > 0) rt.write(m, 0, v.length * 4L, Pointer.to(v));
        return m;
    }

    @Override
    public void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        long n = (long) outer * index.length * inner;
        ClBuffer s = need(src, (long) outer * srcAxis * inner, "gather src"), d = need(dst, n, "gather dst");
        cl_mem[] idx = indexBuffers(index, srcAxis, false);
        rt.launch1("sk_gather", n, s, d, idx[0], outer, srcAxis, index.length, inner);
    }

    @Override
    public void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        long n = (long) outer * dstAxis * inner;
        ClBuffer s = need(src, (long) outer * index.length * inner, "scatterAdd src"), d = need(dst, n, "scatterAdd dst");
        cl_mem[] csr = indexBuffers(index, dstAxis, true);
        rt.launch1("sk_scatter_add", n, s, d, csr[0], csr[1], outer, dstAxis, index.length, inner);
    }

    // ================================================================== Mamba

    private static void checkState(int n) {
        if (n > SCAN_MAX_STATE) {
            throw new UnsupportedOperationException("selective scan with " + n + " states: the OpenCL kernel keeps at most "
                    + SCAN_MAX_STATE + " in private memory");
        }
    }

    @Override
    public void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d,
                              DeviceBuffer y, int b, int l, int e, int n) {
        checkState(n);
        long ble = (long) b * l * e, bln = (long) b * l * n;
        rt.launch1("sk_scan_fwd", (long) b * e, need(u, ble, "scan u"), need(delta, ble, "scan delta"),
                need(a, (long) e * n, "scan a"), need(bm, bln, "scan B"), need(cm, bln, "scan C"), opt(d, e, "scan D"), flag(d),
                need(y, ble, "scan y"), dummy, 0, b, l, e, n);
    }

    @Override
    public void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                                      DeviceBuffer d, DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da,
                                      DeviceBuffer dbm, DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        checkState(n);
        long ble = (long) b * l * e, bln = (long) b * l * n;
        ClBuffer cu = need(u, ble, "scan u"), cdelta = need(delta, ble, "scan delta"), ca = need(a, (long) e * n, "scan a"),
                cb = need(bm, bln, "scan B"), cc = need(cm, bln, "scan C"), cdy = need(dy, ble, "scan dy");
        Object cd = opt(d, e, "scan D");
        try (ClBuffer states = temp(bln * e); ClBuffer daPart = temp((long) b * e * n); ClBuffer ddPart = temp((long) b * e)) {
            rt.launch1("sk_scan_fwd", (long) b * e, cu, cdelta, ca, cb, cc, cd, flag(d), dummy, states, 1, b, l, e, n);
            rt.launchRows("sk_weighted_rows", bln, cdy, states, need(dcm, bln, "scan dC"), n, e);
            rt.launch1("sk_scan_bwd", (long) b * e, cu, cdelta, ca, cb, cc, cd, flag(d), cdy, states,
                    need(du, ble, "scan du"), need(ddelta, ble, "scan ddelta"), daPart, ddPart, b, l, e, n);
            ClBuffer cdbm = need(dbm, bln, "scan dB");
            if (e >= 64) rt.launchRows("sk_reduce_rows", bln, 0, states, cdbm, e);
            else rt.launch1("sk_reduce", bln, 0, states, cdbm, (int) bln, e, 1);
            rt.launch1("sk_reduce", (long) e * n, 0, daPart, need(da, (long) e * n, "scan dA"), 1, b, e * n);
            if (dd != null) rt.launch1("sk_reduce", e, 0, ddPart, need(dd, e, "scan dD"), 1, b, e);
        }
    }

    // ================================================================== training

    @Override
    public void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count, float lr, float beta1,
                      float beta2, float eps, float weightDecay, long step) {
        float bc1 = (float) (1 - Math.pow(beta1, step)), bc2 = (float) (1 - Math.pow(beta2, step));
        rt.launch1("sk_adamw", count, need(param, count, "adamw param"), need(grad, count, "adamw grad"), need(m, count, "adamw m"),
                need(v, count, "adamw v"), count, lr, beta1, beta2, eps, weightDecay, bc1, bc2);
    }

    @Override
    public void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        rt.launch1("sk_random_uniform", count, need(dst, count, "randomUniform"), count, seed, offset);
    }

    @Override
    public void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        rt.launch1("sk_random_normal", count, need(dst, count, "randomNormal"), count, seed, offset);
    }
}
