package dev.sisma.engine.spi;

import java.lang.foreign.MemorySegment;

import org.osgi.annotation.versioning.ConsumerType;

import dev.sisma.engine.internal.Composites;
import dev.sisma.engine.io.DType;

/**
 * A compute backend: the ONLY thing a compute backend implements. Registered as an OSGi service
 * with the properties {@value #NAME_PROPERTY} (the name users pick it by) and
 * {@code service.ranking} (higher wins when no backend is preferred).
 *
 * <h2>Conventions (every method)</h2>
 * <ul>
 * <li>All data is float32 in {@link DeviceBuffer}s made by THIS backend, contiguous, row-major
 *     (last index fastest); shapes are given as sizes, strides and offsets count elements, not bytes.</li>
 * <li>Outputs are overwritten (never accumulated) unless the method says otherwise; an output
 *     buffer must not alias an input unless the method says it may.</li>
 * <li>Methods are eager and synchronous from the caller's point of view: when {@link #download}
 *     returns, every earlier call on the same thread is complete. A GPU backend may queue work
 *     in between. Calls from several threads on different buffers are allowed.</li>
 * <li>Sequences are channels-last: [B, L, C]. Images are NCHW.</li>
 * <li>Arguments are validated above the backend ({@code dev.sisma.engine.Ops}); a backend may
 *     assume sizes are consistent and positive and buffers large enough.</li>
 * </ul>
 * <h2>Primitives and composites</h2>
 * A backend must implement the abstract methods only: {@link #name}, {@link #device}, memory
 * ({@link #allocate}, {@link #upload(float[])}, {@link #download(DeviceBuffer, long, float[], int, int)},
 * {@link #copy}) and the primitives {@link #gemm}, {@link #unary}, {@link #binary}, {@link #compare},
 * {@link #select} and {@link #reduce} (the {@link BackendOp}s marked primitive). Every other method
 * is a default method: a composite written once from those (see {@link BackendOp#uses()}), correct
 * and slower than a fused kernel; a backend overrides the ones it has faster. A backend that cannot
 * run an op at all (a missing kernel, a device limit) says so in {@link #supports}, and the engine
 * runs that op on another backend ({@link HostFallback}).
 * Every method is exercised against its definition by {@code dev.sisma.engine.testkit.BackendConformanceTest}.
 */
@ConsumerType
public interface Backend {
    /** Service property carrying {@link #name()}. */
    String NAME_PROPERTY = "sisma.backend.name";

    /** Short name users select it by: "cpu", "opencl", "cuda". */
    String name();

    /** The device it computes on, in words (e.g. "pthread-skylake-avx512 (PoCL 3.1)", "16 threads, 512-bit vectors"). */
    String device();

    /**
     * Whether this backend runs {@code op} on its own device, natively or through the default
     * composite (true by default). False sends the op to another backend with the buffers copied
     * there and back ({@link HostFallback}, which the engine's backend registry puts in front of a
     * backend that answers false for anything); a composite whose {@link BackendOp#uses()} include
     * an unsupported primitive runs with just that primitive sent elsewhere. The answer must not
     * change while the backend is registered.
     */
    default boolean supports(BackendOp op) {
        return true;
    }

    // ---------------------------------------------------------------- memory

    /** A new buffer of {@code floats} elements, all zero. */
    DeviceBuffer allocate(long floats);

    /**
     * A new buffer of {@code floats} elements whose contents are undefined, for an op's output that
     * the op then writes entirely (the engine uses it where an op's definition sets every element).
     * The default is {@link #allocate}; a backend that recycles memory can skip clearing it.
     */
    default DeviceBuffer allocateUninitialized(long floats) {
        return allocate(floats);
    }

    /** A new buffer holding a copy of {@code src}. */
    DeviceBuffer upload(float[] src);

    /**
     * A new buffer holding a copy of {@code src}: little-endian float32, any alignment,
     * {@code byteSize} a multiple of 4.
     */
    default DeviceBuffer upload(MemorySegment src) {
        return Composites.upload(this, src);
    }

    /**
     * A buffer over {@code src} (little-endian float32, any alignment), zero-copy where the backend
     * can address the memory directly (the CPU backend, for memory-mapped weight files), else a copy.
     * The caller keeps {@code src} valid (its arena open) until the buffer is closed, and must not
     * write through a mapped buffer it does not own (a read-only mapping fails on write).
     */
    default DeviceBuffer map(MemorySegment src) {
        return upload(src);
    }

    /**
     * A buffer of the 16-bit floats in {@code src} ({@code format} F16 or BF16, little-endian, any
     * alignment; copied) that reads as float32 everywhere, each value widened exactly: weights kept
     * at half their size. The default widens them into a float32 buffer; the CPU backend keeps the
     * 16-bit values and widens them where its GEMM packs the B operand, so a Linear's weight read
     * only by the GEMM stays half size (any other use widens it to float32 for good).
     */
    default DeviceBuffer uploadHalf(MemorySegment src, DType format) {
        return Composites.uploadHalf(this, src, format);
    }

    /** Copies {@code count} elements from {@code src[srcOffset..]} into {@code dst[dstOffset..]}. */
    void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count);

    /** Copies the whole buffer into {@code dst} (little-endian float32, {@code byteSize >= 4 size}). */
    default void download(DeviceBuffer src, MemorySegment dst) {
        Composites.download(this, src, dst);
    }

    /** Sets {@code dst[offset .. offset+count)} to {@code value}. */
    default void fill(DeviceBuffer dst, long offset, long count, float value) {
        Composites.fill(this, dst, offset, count, value);
    }

    /**
     * Strided copy, the one movement primitive (permute, transpose, slice, concat, broadcast-expand):
     * for every index vector {@code i} in {@code shape},
     * {@code dst[dstOffset + sum(i_k dstStrides_k)] = src[srcOffset + sum(i_k srcStrides_k)]}.
     * Source strides may be 0 (broadcast); destination positions must be distinct; no aliasing.
     */
    void copy(DeviceBuffer src, long srcOffset, long[] srcStrides,
              DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape);

    // ---------------------------------------------------------------- dense algebra

    /**
     * Batched GEMM: for each {@code p < batch},
     * {@code C_p = alpha * op(A_p) op(B_p) + beta * C_p + bias} where C_p is [m, n] at
     * {@code c + p*m*n}, op(A_p) is [m, k] (A_p stored [m, k], or [k, m] when {@code transA}) at
     * {@code a + p*strideA}, op(B_p) is [k, n] (B_p stored [k, n], or [n, k] when {@code transB})
     * at {@code b + p*strideB}. A batch stride of 0 reuses one matrix (weights). {@code bias}
     * (nullable, length n) is added to every row. With {@code beta == 0} C is not read (NaN-safe).
     * A Linear layer is {@code gemm(false, true, 1, rows, out, in, 1, x, 0, W, 0, 0, y, bias)}.
     */
    void gemm(boolean transA, boolean transB, int batch, int m, int n, int k,
              float alpha, DeviceBuffer a, long strideA, DeviceBuffer b, long strideB,
              float beta, DeviceBuffer c, DeviceBuffer bias);

    // ---------------------------------------------------------------- elementwise

    /** {@code y[i] = op(x[i])} for i < count. y may be x (in place). */
    void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count);

    /** {@code dx[i] = dy[i] * op'(x[i])} for i < count (see {@link UnaryOp}). dx may be dy. */
    default void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        Composites.unaryBackward(this, op, x, dy, dx, count);
    }

    /** {@code y[i] = alpha * x[i] + beta} for i < count. y may be x. */
    default void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        Composites.affine(this, x, y, count, alpha, beta);
    }

    /**
     * Broadcasting binary op: {@code out} is contiguous of {@code shape}; for every index vector i,
     * {@code out[i] = a[sum(i_k aStrides_k)] op b[sum(i_k bStrides_k)]}. A stride of 0 broadcasts.
     * out may be a or b when that operand is contiguous with out's shape (in-place accumulate).
     */
    void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                DeviceBuffer out, int[] shape);

    /**
     * Broadcasting comparison, strides and aliasing as {@link #binary}:
     * {@code out[i] = op.test(a[...], b[...]) ? 1 : 0} (see {@link CompareOp}: NaN compares false, except NE).
     */
    void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                 DeviceBuffer out, int[] shape);

    /**
     * Broadcasting selection, strides and aliasing as {@link #binary}:
     * {@code out[i] = cond[...] != 0 ? a[...] : b[...]}; the operand not picked is not used
     * (an infinity or NaN there does not leak into out, unlike {@code b + cond (a - b)}).
     */
    void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                DeviceBuffer out, int[] shape);

    /**
     * Reduction over the middle axis of x viewed as [outer, axis, inner]:
     * {@code y[o, i] = op_{j < axis} x[o, j, i]}, y contiguous [outer, inner].
     */
    void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner);

    // ---------------------------------------------------------------- normalisation

    /** Softmax over the last axis of x [rows, cols] (max-subtracted). y may be x. */
    default void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        Composites.softmax(this, x, y, rows, cols);
    }

    /** {@code dx = y * (dy - sum_j(dy_j y_j))} per row, from the forward output y. */
    default void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        Composites.softmaxBackward(this, y, dy, dx, rows, cols);
    }

    /**
     * LayerNorm over the last axis of x [rows, cols]:
     * {@code y = (x - mean) * rstd * gamma + beta}, rstd = 1/sqrt(var + eps), biased variance.
     * gamma, beta nullable (no affine). Saves mean[rows] and rstd[rows] for the backward.
     */
    default void layerNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y,
                   DeviceBuffer mean, DeviceBuffer rstd, int rows, int cols, float eps) {
        Composites.layerNorm(this, x, gamma, beta, y, mean, rstd, rows, cols, eps);
    }

    /**
     * Backward of {@link #layerNorm}: writes dx [rows, cols]; when gamma is non-null also
     * dgamma[cols] and dbeta[cols] (overwritten, summed over rows; either may be null to skip).
     */
    default void layerNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd,
                           DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta,
                           int rows, int cols) {
        Composites.layerNormBackward(this, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols);
    }

    /**
     * GroupNorm of x [n, c, hw] in {@code groups} groups of c/groups channels, statistics over
     * (channels of the group, hw); per-channel affine gamma, beta [c] (nullable).
     * Saves mean and rstd [n, groups].
     */
    default void groupNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y,
                   DeviceBuffer mean, DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) {
        Composites.groupNorm(this, x, gamma, beta, y, mean, rstd, n, c, hw, groups, eps);
    }

    /** Backward of {@link #groupNorm}: dx, and dgamma/dbeta [c] when non-null (overwritten). */
    default void groupNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd,
                           DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta,
                           int n, int c, int hw, int groups) {
        Composites.groupNormBackward(this, x, gamma, mean, rstd, dy, dx, dgamma, dbeta, n, c, hw, groups);
    }

    // ---------------------------------------------------------------- convolutions

    /** 2D convolution (cross-correlation, as PyTorch) with optional bias [cout]; see {@link Conv2dShape}. */
    default void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        Composites.conv2d(this, x, w, bias, y, s);
    }

    /** dx [n, cin, h, w] from dy [n, cout, outH, outW] and w. */
    default void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        Composites.conv2dBackwardInput(this, dy, w, dx, s);
    }

    /** dw [cout, cin, kh, kw] and, when non-null, dbias [cout] (overwritten, summed over the batch). */
    default void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        Composites.conv2dBackwardWeight(this, x, dy, dw, dbias, s);
    }

    /**
     * Depthwise causal conv along the sequence, channels-last (Mamba's conv1d):
     * x, y [b, l, c], w [c, k] (PyTorch's [c, 1, k]), bias [c] nullable:
     * {@code y[b,t,ch] = bias[ch] + sum_{j<k} w[ch,j] * x[b, t-(k-1)+j, ch]}, x = 0 before t = 0.
     */
    default void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y,
                               int b, int l, int c, int k) {
        Composites.depthwiseCausalConv1d(this, x, w, bias, y, b, l, c, k);
    }

    /** Backward: dx [b,l,c], dw [c,k] and, when non-null, dbias [c] (all overwritten). */
    default void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy,
                                       DeviceBuffer dx, DeviceBuffer dw, DeviceBuffer dbias,
                                       int b, int l, int c, int k) {
        Composites.depthwiseCausalConv1dBackward(this, x, w, dy, dx, dw, dbias, b, l, c, k);
    }

    // ---------------------------------------------------------------- indexing

    /**
     * Gather along the middle axis of src [outer, srcAxis, inner]:
     * {@code dst[o, i, r] = src[o, index[i], r]}, dst [outer, index.length, inner]
     * (scan orders, embedding lookups). Indices are checked above the backend.
     */
    default void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        Composites.gather(this, src, dst, outer, srcAxis, inner, index);
    }

    /**
     * The adjoint of {@link #gather}: {@code dst[o, index[i], r] += src[o, i, r]} (accumulates;
     * repeated indices add up). dst [outer, dstAxis, inner].
     */
    default void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        Composites.scatterAdd(this, src, dst, outer, dstAxis, inner, index);
    }

    // ---------------------------------------------------------------- Mamba

    /**
     * Mamba-1 selective scan (state-spaces/mamba {@code selective_scan_ref}, real A, no z gate),
     * float32. u, delta, y [b, l, e]; a [e, n]; bm, cm [b, l, n] (shared by all channels);
     * d [e] (nullable = 0). With h[-1] = 0:
     * <pre>
     *   h[b,e,n,t] = exp(delta[b,t,e] * a[e,n]) * h[b,e,n,t-1] + delta[b,t,e] * bm[b,t,n] * u[b,t,e]
     *   y[b,t,e]   = sum_n cm[b,t,n] * h[b,e,n,t] + d[e] * u[b,t,e]
     * </pre>
     * delta is used as given (softplus and dt bias are applied above the backend).
     */
    default void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                       DeviceBuffer d, DeviceBuffer y, int b, int l, int e, int n) {
        Composites.selectiveScan(this, u, delta, a, bm, cm, d, y, b, l, e, n);
    }

    /**
     * Backward of {@link #selectiveScan} given dy [b, l, e]: writes (overwrites) du, ddelta [b,l,e],
     * da [e,n] (summed over the batch), dbm, dcm [b,l,n] (summed over channels) and dd [e]
     * (nullable; summed over batch and positions). Recomputes the states it needs, so no state
     * is kept between forward and backward.
     */
    default void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm,
                               DeviceBuffer d, DeviceBuffer dy,
                               DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da, DeviceBuffer dbm,
                               DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        Composites.selectiveScanBackward(this, u, delta, a, bm, cm, d, dy, du, ddelta, da, dbm, dcm, dd, b, l, e, n);
    }

    // ---------------------------------------------------------------- fused (AdaLN, Mamba gates)

    /**
     * AdaLN's modulation: {@code y[b,t,c] = x[b,t,c] * (1 + scale[b,c]) + shift[b,c]} for x, y
     * [batch, tokens, cols] and shift, scale [batch, cols]. y may be x.
     */
    default void modulate(DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y, int batch, int tokens, int cols) {
        Composites.modulate(this, x, shift, scale, y, batch, tokens, cols);
    }

    /**
     * {@link #layerNorm} without affine, then {@link #modulate}, in one:
     * {@code y[b,t,:] = ((x[b,t,:] - mean) * rstd) * (1 + scale[b,:]) + shift[b,:]}, statistics per
     * row of cols as in {@link #layerNorm} (none saved). x, y [batch, tokens, cols]; y must not be x.
     */
    default void layerNormModulate(DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y,
                                   int batch, int tokens, int cols, float eps) {
        Composites.layerNormModulate(this, x, shift, scale, y, batch, tokens, cols, eps);
    }

    /**
     * AdaLN-Zero's gated residual: {@code out[b,t,c] = x[b,t,c] + gate[b,c] * y[b,t,c]} for x, y, out
     * [batch, tokens, cols] and gate [batch, cols]. out may be x or y.
     */
    default void gatedResidual(DeviceBuffer x, DeviceBuffer gate, DeviceBuffer y, DeviceBuffer out, int batch, int tokens, int cols) {
        Composites.gatedResidual(this, x, gate, y, out, batch, tokens, cols);
    }

    /**
     * Mamba's output gate: {@code out[r,c] = x[r,c] * silu(z[zOffset + r zStride + c])} for x, out
     * [rows, cols] contiguous and z read with a row stride (z can be the second half of in_proj's
     * [rows, 2 cols] output, read in place). out may be x.
     */
    default void siluGate(DeviceBuffer x, DeviceBuffer z, long zOffset, long zStride, DeviceBuffer out, int rows, int cols) {
        Composites.siluGate(this, x, z, zOffset, zStride, out, rows, cols);
    }

    // ---------------------------------------------------------------- training

    /**
     * Fused AdamW step (PyTorch {@code torch.optim.AdamW}, amsgrad off), in place, for i < count:
     * <pre>
     *   p = p - lr * weightDecay * p
     *   m = beta1 m + (1 - beta1) g;   v = beta2 v + (1 - beta2) g^2
     *   p = p - lr * (m / (1 - beta1^step)) / (sqrt(v / (1 - beta2^step)) + eps)
     * </pre>
     * {@code step} counts from 1.
     */
    default void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count,
               float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        Composites.adamw(this, param, grad, m, v, count, lr, beta1, beta2, eps, weightDecay, step);
    }

    /** {@code dst[i] = } {@link Philox#uniformAt}{@code (seed, offset, i)} in (0, 1), for i < count; bit-exact on every backend. */
    default void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        Composites.random(this, dst, count, seed, offset, false);
    }

    /** {@code dst[i] = } {@link Philox#normalAt}{@code (seed, offset, i)}, standard normal, for i < count. */
    default void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        Composites.random(this, dst, count, seed, offset, true);
    }
}
