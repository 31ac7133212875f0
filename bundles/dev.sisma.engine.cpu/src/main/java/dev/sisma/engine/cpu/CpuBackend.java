package dev.sisma.engine.cpu;

import static dev.sisma.engine.cpu.internal.CpuBuffer.of;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteOrder;
import java.util.Map;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import jdk.incubator.vector.FloatVector;

import dev.sisma.engine.cpu.internal.CpuBuffer;
import dev.sisma.engine.cpu.internal.Elementwise;
import dev.sisma.engine.cpu.internal.Fused;
import dev.sisma.engine.cpu.internal.Gemm;
import dev.sisma.engine.cpu.internal.Kernels;
import dev.sisma.engine.cpu.internal.PackedWeights;
import dev.sisma.engine.cpu.internal.Parallel;
import dev.sisma.engine.cpu.internal.Scan;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.BufferPool;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.Conv2dShape;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The pure-Java CPU backend: off-heap float32 buffers, a fork/join pool of {@code threads}
 * workers, JDK Vector API kernels (see the {@code internal} package, one class per op family).
 * Registered with {@code sisma.backend.name=cpu}, {@code service.ranking=0}; configured through
 * Config Admin PID {@value #PID}, property {@code threads} (default: all cores).
 * Usable without OSGi: {@code try (var be = new CpuBackend(4)) { ... }}.
 */
@Component(service = Backend.class, configurationPid = CpuBackend.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = {Backend.NAME_PROPERTY + "=cpu", Constants.SERVICE_RANKING + ":Integer=0"})
@Designate(ocd = CpuBackend.Config.class)
public final class CpuBackend implements Backend, AutoCloseable {
    public static final String PID = "dev.sisma.engine.cpu";
    private static final ValueLayout.OfFloat F = ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    @ObjectClassDefinition(name = "sisma CPU backend")
    public @interface Config {
        @AttributeDefinition(description = "Worker threads; 0 or absent: all cores")
        int threads() default 0;
    }

    private final Parallel par;
    /**
     * Freed buffers kept for reuse by size, up to half the maximum heap (by default an eighth of
     * the machine's memory; -Xmx scales it): a training step allocates the same shapes every time,
     * and a new off-heap arena costs zeroing, page faults and, on close, a handshake with every
     * thread (20 us for 4 KB, 0.4 ms for 16 MB).
     */
    private final BufferPool<CpuBuffer.Block> pool = new BufferPool<>(CpuBuffer.MEMORY, Runtime.getRuntime().maxMemory() / 2);
    /**
     * Weights the GEMM keeps packed in place (see {@link PackedWeights}), on the heap: opt-in,
     * {@code -Dsisma.cpu.packedWeightBytes=N} bytes at most (the heap must hold them besides its
     * other use). Off by default: with the heap's half as its budget, sisma-L/2's packs (3.2 GB) held
     * the peak memory at twice the weights and, on a default heap smaller than them, slowed the
     * denoising step 9x.
     */
    private final PackedWeights weights = new PackedWeights(Long.getLong("sisma.cpu.packedWeightBytes", 0));

    /** A backend with {@code threads} workers (1 .. 4096). */
    public CpuBackend(int threads) {
        if (threads < 1 || threads > 4096)
            throw new IllegalArgumentException("CPU backend: threads must be between 1 and 4096, got " + threads);
        this.par = new Parallel(threads);
    }

    /** A backend using every core. */
    public CpuBackend() {
        this(Runtime.getRuntime().availableProcessors());
    }

    @Activate
    public CpuBackend(Map<String, Object> props) {
        this(threadsFrom(props));
    }

    /** Reads {@code threads} from configuration: absent or 0 = all cores; anything else must be a positive integer. */
    public static int threadsFrom(Map<String, Object> props) {
        Object v = props == null ? null : props.get("threads");
        if (v == null) return Runtime.getRuntime().availableProcessors();
        int t;
        try {
            t = v instanceof Number num ? num.intValue() : Integer.parseInt(v.toString().trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("configuration " + PID + ": threads must be a whole number, got '" + v + "'");
        }
        if (t == 0) return Runtime.getRuntime().availableProcessors();
        if (t < 0 || t > 4096)
            throw new IllegalArgumentException("configuration " + PID + ": threads must be between 1 and 4096 (0 = all cores), got " + t);
        return t;
    }

    public int threads() { return par.threads(); }

    /** Off-heap blocks created so far: a steady loop adds none (buffer pool). */
    public long buffersCreated() {
        return pool.created();
    }

    @Deactivate
    @Override
    public void close() {
        par.close();
        pool.close();
    }

    @Override
    public String name() { return "cpu"; }

    @Override
    public String device() {
        int bits = FloatVector.SPECIES_PREFERRED.vectorBitSize();
        String isa = bits >= 512 ? "AVX-512" : bits == 256 ? "AVX2" : bits == 128 ? "SSE/NEON" : "scalar";
        return par.threads() + (par.threads() == 1 ? " thread, " : " threads, ") + bits + "-bit vectors (" + isa + ")";
    }

    // ---------------------------------------------------------------- memory

    @Override
    public DeviceBuffer allocate(long floats) {
        CpuBuffer b = (CpuBuffer) allocateUninitialized(floats);
        b.segment().fill((byte) 0); // recycled blocks hold old values (one thread: a parallel clear measured slower)
        return b;
    }

    @Override
    public DeviceBuffer allocateUninitialized(long floats) {
        if (floats < 0) throw new IllegalArgumentException("negative buffer size " + floats);
        return CpuBuffer.allocateUncleared(pool, floats); // a recycled block keeps old values: the caller writes every element
    }

    @Override
    public DeviceBuffer upload(float[] src) {
        CpuBuffer b = CpuBuffer.allocateUncleared(pool, src.length); // every element overwritten below
        MemorySegment.copy(src, 0, b.segment(), F, 0, src.length);
        return b;
    }

    @Override
    public DeviceBuffer upload(MemorySegment src) {
        checkFloats(src);
        CpuBuffer b = CpuBuffer.allocateUncleared(pool, src.byteSize() / 4); // every element overwritten below
        MemorySegment.copy(src, 0, b.segment(), 0, src.byteSize());
        return b;
    }

    @Override
    public DeviceBuffer map(MemorySegment src) {
        checkFloats(src);
        // zero copy for native (off-heap, mapped) memory; heap segments are copied so that the
        // kernels only ever see native segments
        return src.isNative() ? CpuBuffer.alias(src) : upload(src);
    }

    /** Kept as 16-bit floats: the GEMM widens them as it packs them (see {@link CpuBuffer#half}). */
    @Override
    public DeviceBuffer uploadHalf(MemorySegment src, DType format) {
        if ((format != DType.BF16 && format != DType.F16) || src.byteSize() % 2 != 0)
            throw new IllegalArgumentException("uploadHalf: " + src.byteSize() + " bytes of " + format + " are not whole F16/BF16 values");
        return CpuBuffer.half(src, src.byteSize() / 2, format == DType.BF16);
    }

    private static void checkFloats(MemorySegment src) {
        if (src.byteSize() % 4 != 0) throw new IllegalArgumentException("segment of " + src.byteSize() + " bytes is not whole float32 values");
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        MemorySegment.copy(of(src), F, srcOffset * 4, dst, dstOffset, count);
    }

    @Override
    public void download(DeviceBuffer src, MemorySegment dst) {
        MemorySegment.copy(of(src), 0, dst, 0, src.size() * 4);
    }

    @Override
    public void fill(DeviceBuffer dst, long offset, long count, float value) {
        Elementwise.fill(par, of(dst).asSlice(offset * 4, count * 4), count, value);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        Elementwise.copy(par, of(src), srcOffset, srcStrides, of(dst), dstOffset, dstStrides, shape);
    }

    // ---------------------------------------------------------------- compute

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, DeviceBuffer a, long strideA,
                     DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        Gemm.gemm(par, transA, transB, batch, m, n, k, alpha, of(a), strideA, CpuBuffer.checked(b), strideB, beta, of(c), of(bias), weights);
    }

    @Override
    public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        Elementwise.unary(par, op, of(x), of(y), count);
    }

    @Override
    public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        Elementwise.unaryBackward(par, op, of(x), of(dy), of(dx), count);
    }

    @Override
    public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        Elementwise.affine(par, of(x), of(y), count, alpha, beta);
    }

    @Override
    public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        Elementwise.binary(par, op, of(a), aStrides, of(b), bStrides, of(out), shape);
    }

    @Override
    public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        Elementwise.compare(par, op, of(a), aStrides, of(b), bStrides, of(out), shape);
    }

    @Override
    public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                       DeviceBuffer out, int[] shape) {
        Elementwise.select(par, of(cond), condStrides, of(a), aStrides, of(b), bStrides, of(out), shape);
    }

    @Override
    public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        Kernels.reduce(par, op, of(x), of(y), outer, axis, inner);
    }

    @Override
    public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        Kernels.softmax(par, of(x), of(y), rows, cols);
    }

    @Override
    public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        Kernels.softmaxBackward(par, of(y), of(dy), of(dx), rows, cols);
    }

    @Override
    public void layerNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
                          int rows, int cols, float eps) {
        Kernels.layerNorm(par, of(x), of(gamma), of(beta), of(y), of(mean), of(rstd), rows, cols, eps);
    }

    @Override
    public void modulate(DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y, int batch, int tokens, int cols) {
        Fused.modulate(par, of(x), of(shift), of(scale), of(y), batch, tokens, cols);
    }

    @Override
    public void layerNormModulate(DeviceBuffer x, DeviceBuffer shift, DeviceBuffer scale, DeviceBuffer y, int batch, int tokens, int cols, float eps) {
        Fused.layerNormModulate(par, of(x), of(shift), of(scale), of(y), batch, tokens, cols, eps);
    }

    @Override
    public void gatedResidual(DeviceBuffer x, DeviceBuffer gate, DeviceBuffer y, DeviceBuffer out, int batch, int tokens, int cols) {
        Fused.gatedResidual(par, of(x), of(gate), of(y), of(out), batch, tokens, cols);
    }

    @Override
    public void siluGate(DeviceBuffer x, DeviceBuffer z, long zOffset, long zStride, DeviceBuffer out, int rows, int cols) {
        Fused.siluGate(par, of(x), of(z), zOffset, zStride, of(out), rows, cols);
    }

    @Override
    public void layerNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int rows, int cols) {
        Kernels.layerNormBackward(par, of(x), of(gamma), of(mean), of(rstd), of(dy), of(dx), of(dgamma), of(dbeta), rows, cols);
    }

    @Override
    public void groupNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd,
                          int n, int c, int hw, int groups, float eps) {
        Kernels.groupNorm(par, of(x), of(gamma), of(beta), of(y), of(mean), of(rstd), n, c, hw, groups, eps);
    }

    @Override
    public void groupNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy,
                                  DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int n, int c, int hw, int groups) {
        Kernels.groupNormBackward(par, of(x), of(gamma), of(mean), of(rstd), of(dy), of(dx), of(dgamma), of(dbeta), n, c, hw, groups);
    }

    @Override
    public void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        Kernels.conv2d(par, of(x), of(w), of(bias), of(y), s);
    }

    @Override
    public void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        Kernels.conv2dBackwardInput(par, of(dy), of(w), of(dx), s);
    }

    @Override
    public void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        Kernels.conv2dBackwardWeight(par, of(x), of(dy), of(dw), of(dbias), s);
    }

    @Override
    public void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, int b, int l, int c, int k) {
        Kernels.dwConv1d(par, of(x), of(w), of(bias), of(y), b, l, c, k);
    }

    @Override
    public void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw,
                                              DeviceBuffer dbias, int b, int l, int c, int k) {
        Kernels.dwConv1dBackward(par, of(x), of(w), of(dy), of(dx), of(dw), of(dbias), b, l, c, k);
    }

    @Override
    public void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        Kernels.gather(par, of(src), of(dst), outer, srcAxis, inner, index);
    }

    @Override
    public void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        Kernels.scatterAdd(par, of(src), of(dst), outer, dstAxis, inner, index);
    }

    @Override
    public void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d,
                              DeviceBuffer y, int b, int l, int e, int n) {
        Scan.forward(par, of(u), of(delta), of(a), of(bm), of(cm), of(d), of(y), b, l, e, n);
    }

    @Override
    public void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d,
                                      DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da, DeviceBuffer dbm,
                                      DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        Scan.backward(par, of(u), of(delta), of(a), of(bm), of(cm), of(d), of(dy), of(du), of(ddelta), of(da), of(dbm), of(dcm), of(dd), b, l, e, n);
    }

    @Override
    public void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count, float lr, float beta1,
                      float beta2, float eps, float weightDecay, long step) {
        Kernels.adamw(par, of(param), of(grad), of(m), of(v), count, lr, beta1, beta2, eps, weightDecay, step);
    }

    @Override
    public void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        Kernels.random(par, of(dst), count, seed, offset, false);
    }

    @Override
    public void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        Kernels.random(par, of(dst), count, seed, offset, true);
    }
}
