package dev.sisma.engine.spi;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.EnumSet;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * A {@link Backend} in front of a device backend that does not {@link Backend#supports support}
 * every op, in the manner of ggml's scheduler: each op runs
 * <ul>
 * <li>on the device when it supports the op and (for a composite) every primitive the composite uses;</li>
 * <li>as the default composite on this backend when the device supports the op but not one of those
 *     primitives, so only that primitive moves;</li>
 * <li>on the host backend otherwise: the buffers it reads and writes are copied to the host, the op
 *     runs there, and what it wrote is copied back. The first time for each op, one line goes to
 *     {@code notes}.</li>
 * </ul>
 * Memory (allocate, upload, download, copy) is always the device's, so buffers of this backend
 * and of the device are the same buffers. The engine's backend registry puts one in front of every
 * backend that answers false for an op, with the host a registered backend that supports everything
 * (the CPU backend); a backend's own tests can build one the same way.
 */
public final class HostFallback implements Backend {
    private enum Route { DEVICE, COMPOSITE, HOST }

    private final Backend device;
    private final Supplier<Backend> host;
    private final Consumer<String> notes;
    private final Map<BackendOp, Route> routes = new EnumMap<>(BackendOp.class);
    private final Set<BackendOp> noted = EnumSet.noneOf(BackendOp.class);

    /**
     * @param device the backend whose buffers and supported ops are used
     * @param host   asked, when an op first has to move, for a backend that supports every op
     * @param notes  where the one-time line per moved op goes (e.g. the error stream)
     */
    public HostFallback(Backend device, Supplier<Backend> host, Consumer<String> notes) {
        this.device = Objects.requireNonNull(device);
        this.host = Objects.requireNonNull(host);
        this.notes = Objects.requireNonNull(notes);
        for (BackendOp op : BackendOp.values()) {
            Route r;
            if (!device.supports(op)) r = Route.HOST;
            else if (op.uses().stream().allMatch(device::supports)) r = Route.DEVICE;
            else r = Route.COMPOSITE;
            routes.put(op, r);
        }
    }

    /** True when {@code be} answers false for some op (and so needs a {@code HostFallback} in front). */
    public static boolean needed(Backend be) {
        for (BackendOp op : BackendOp.values()) if (!be.supports(op)) return true;
        return false;
    }

    /** The backend this one routes to. */
    public Backend wrapped() {
        return device;
    }

    /** Every op runs somewhere: on the device, as a composite over it, or on the host. */
    @Override
    public boolean supports(BackendOp op) {
        return true;
    }

    @Override
    public String name() {
        return device.name();
    }

    @Override
    public String device() {
        return device.device();
    }

    private Route route(BackendOp op) {
        return routes.get(op);
    }

    /** The buffers of one op copied to the host backend; outputs copied back on close. */
    private final class OnHost implements AutoCloseable {
        final Backend be;
        private final Map<DeviceBuffer, DeviceBuffer> copies = new IdentityHashMap<>();
        private final List<DeviceBuffer> outputs = new ArrayList<>();

        OnHost(BackendOp op) {
            be = Objects.requireNonNull(host.get(), "no host backend");
            boolean first;
            synchronized (noted) {
                first = noted.add(op);
            }
            if (first) notes.accept("backend " + device.name() + " does not support " + op.name().toLowerCase()
                    + ": it runs on " + be.name() + ", with its buffers copied there and back");
        }

        /** The host copy of a buffer the op reads (null stays null). */
        DeviceBuffer in(DeviceBuffer b) {
            if (b == null) return null;
            return copies.computeIfAbsent(b, d -> {
                float[] a = new float[Math.toIntExact(d.size())];
                device.download(d, 0, a, 0, a.length);
                return be.upload(a);
            });
        }

        /** The host copy of a buffer the op writes (its contents too: some ops accumulate or write part of it). */
        DeviceBuffer out(DeviceBuffer b) {
            if (b == null) return null;
            DeviceBuffer h = in(b);
            if (!outputs.contains(b)) outputs.add(b);
            return h;
        }

        @Override
        public void close() {
            try {
                for (DeviceBuffer d : outputs) {
                    DeviceBuffer h = copies.get(d);
                    float[] a = new float[Math.toIntExact(d.size())];
                    be.download(h, 0, a, 0, a.length);
                    try (DeviceBuffer t = device.upload(a)) {
                        device.copy(t, 0, new long[] {1}, d, 0, new long[] {1}, new int[] {a.length});
                    }
                }
            } finally {
                copies.values().forEach(DeviceBuffer::close);
            }
        }
    }

    // ---------------------------------------------------------------- memory: always the device's

    @Override
    public DeviceBuffer allocate(long floats) {
        return device.allocate(floats);
    }

    @Override
    public DeviceBuffer upload(float[] src) {
        return device.upload(src);
    }

    @Override
    public DeviceBuffer upload(MemorySegment src) {
        return device.upload(src);
    }

    @Override
    public DeviceBuffer map(MemorySegment src) {
        return device.map(src);
    }

    @Override
    public DeviceBuffer uploadHalf(MemorySegment src, dev.sisma.engine.io.DType format) {
        return device.uploadHalf(src, format);
    }

    @Override
    public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        device.download(src, srcOffset, dst, dstOffset, count);
    }

    @Override
    public void download(DeviceBuffer src, MemorySegment dst) {
        device.download(src, dst);
    }

    @Override
    public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        device.copy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
    }

    // ---------------------------------------------------------------- ops, routed

    @Override
    public void fill(DeviceBuffer dst, long offset, long count, float value) {
        switch (route(BackendOp.FILL)) {
            case DEVICE -> device.fill(dst, offset, count, value);
            case COMPOSITE -> Backend.super.fill(dst, offset, count, value);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.FILL)) {
                    h.be.fill(h.out(dst), offset, count, value);
                }
            }
        }
    }

    @Override
    public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, DeviceBuffer a, long strideA, DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        switch (route(BackendOp.GEMM)) {
            case DEVICE -> device.gemm(transA, transB, batch, m, n, k, alpha, a, strideA, b, strideB, beta, c, bias);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.GEMM)) {
                    h.be.gemm(transA, transB, batch, m, n, k, alpha, h.in(a), strideA, h.in(b), strideB, beta, h.out(c), h.in(bias));
                }
            }
        }
    }

    @Override
    public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        switch (route(BackendOp.UNARY)) {
            case DEVICE -> device.unary(op, x, y, count);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.UNARY)) {
                    h.be.unary(op, h.in(x), h.out(y), count);
                }
            }
        }
    }

    @Override
    public void unaryBackward(UnaryOp op, DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dx, long count) {
        switch (route(BackendOp.UNARY_BACKWARD)) {
            case DEVICE -> device.unaryBackward(op, x, dy, dx, count);
            case COMPOSITE -> Backend.super.unaryBackward(op, x, dy, dx, count);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.UNARY_BACKWARD)) {
                    h.be.unaryBackward(op, h.in(x), h.in(dy), h.out(dx), count);
                }
            }
        }
    }

    @Override
    public void affine(DeviceBuffer x, DeviceBuffer y, long count, float alpha, float beta) {
        switch (route(BackendOp.AFFINE)) {
            case DEVICE -> device.affine(x, y, count, alpha, beta);
            case COMPOSITE -> Backend.super.affine(x, y, count, alpha, beta);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.AFFINE)) {
                    h.be.affine(h.in(x), h.out(y), count, alpha, beta);
                }
            }
        }
    }

    @Override
    public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        switch (route(BackendOp.BINARY)) {
            case DEVICE -> device.binary(op, a, aStrides, b, bStrides, out, shape);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.BINARY)) {
                    h.be.binary(op, h.in(a), aStrides, h.in(b), bStrides, h.out(out), shape);
                }
            }
        }
    }

    @Override
    public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        switch (route(BackendOp.COMPARE)) {
            case DEVICE -> device.compare(op, a, aStrides, b, bStrides, out, shape);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.COMPARE)) {
                    h.be.compare(op, h.in(a), aStrides, h.in(b), bStrides, h.out(out), shape);
                }
            }
        }
    }

    @Override
    public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        switch (route(BackendOp.SELECT)) {
            case DEVICE -> device.select(cond, condStrides, a, aStrides, b, bStrides, out, shape);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SELECT)) {
                    h.be.select(h.in(cond), condStrides, h.in(a), aStrides, h.in(b), bStrides, h.out(out), shape);
                }
            }
        }
    }

    @Override
    public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        switch (route(BackendOp.REDUCE)) {
            case DEVICE -> device.reduce(op, x, y, outer, axis, inner);
            case COMPOSITE -> throw new IllegalStateException("a primitive has no composite");
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.REDUCE)) {
                    h.be.reduce(op, h.in(x), h.out(y), outer, axis, inner);
                }
            }
        }
    }

    @Override
    public void softmax(DeviceBuffer x, DeviceBuffer y, int rows, int cols) {
        switch (route(BackendOp.SOFTMAX)) {
            case DEVICE -> device.softmax(x, y, rows, cols);
            case COMPOSITE -> Backend.super.softmax(x, y, rows, cols);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SOFTMAX)) {
                    h.be.softmax(h.in(x), h.out(y), rows, cols);
                }
            }
        }
    }

    @Override
    public void softmaxBackward(DeviceBuffer y, DeviceBuffer dy, DeviceBuffer dx, int rows, int cols) {
        switch (route(BackendOp.SOFTMAX_BACKWARD)) {
            case DEVICE -> device.softmaxBackward(y, dy, dx, rows, cols);
            case COMPOSITE -> Backend.super.softmaxBackward(y, dy, dx, rows, cols);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SOFTMAX_BACKWARD)) {
                    h.be.softmaxBackward(h.in(y), h.in(dy), h.out(dx), rows, cols);
                }
            }
        }
    }

    @Override
    public void layerNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int rows, int cols, float eps) {
        switch (route(BackendOp.LAYER_NORM)) {
            case DEVICE -> device.layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps);
            case COMPOSITE -> Backend.super.layerNorm(x, gamma, beta, y, mean, rstd, rows, cols, eps);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.LAYER_NORM)) {
                    h.be.layerNorm(h.in(x), h.in(gamma), h.in(beta), h.out(y), h.out(mean), h.out(rstd), rows, cols, eps);
                }
            }
        }
    }

    @Override
    public void layerNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int rows, int cols) {
        switch (route(BackendOp.LAYER_NORM_BACKWARD)) {
            case DEVICE -> device.layerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols);
            case COMPOSITE -> Backend.super.layerNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, rows, cols);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.LAYER_NORM_BACKWARD)) {
                    h.be.layerNormBackward(h.in(x), h.in(gamma), h.in(mean), h.in(rstd), h.in(dy), h.out(dx), h.out(dgamma), h.out(dbeta), rows, cols);
                }
            }
        }
    }

    @Override
    public void groupNorm(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer beta, DeviceBuffer y, DeviceBuffer mean, DeviceBuffer rstd, int n, int c, int hw, int groups, float eps) {
        switch (route(BackendOp.GROUP_NORM)) {
            case DEVICE -> device.groupNorm(x, gamma, beta, y, mean, rstd, n, c, hw, groups, eps);
            case COMPOSITE -> Backend.super.groupNorm(x, gamma, beta, y, mean, rstd, n, c, hw, groups, eps);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.GROUP_NORM)) {
                    h.be.groupNorm(h.in(x), h.in(gamma), h.in(beta), h.out(y), h.out(mean), h.out(rstd), n, c, hw, groups, eps);
                }
            }
        }
    }

    @Override
    public void groupNormBackward(DeviceBuffer x, DeviceBuffer gamma, DeviceBuffer mean, DeviceBuffer rstd, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dgamma, DeviceBuffer dbeta, int n, int c, int hw, int groups) {
        switch (route(BackendOp.GROUP_NORM_BACKWARD)) {
            case DEVICE -> device.groupNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, n, c, hw, groups);
            case COMPOSITE -> Backend.super.groupNormBackward(x, gamma, mean, rstd, dy, dx, dgamma, dbeta, n, c, hw, groups);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.GROUP_NORM_BACKWARD)) {
                    h.be.groupNormBackward(h.in(x), h.in(gamma), h.in(mean), h.in(rstd), h.in(dy), h.out(dx), h.out(dgamma), h.out(dbeta), n, c, hw, groups);
                }
            }
        }
    }

    @Override
    public void conv2d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, Conv2dShape s) {
        switch (route(BackendOp.CONV2D)) {
            case DEVICE -> device.conv2d(x, w, bias, y, s);
            case COMPOSITE -> Backend.super.conv2d(x, w, bias, y, s);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.CONV2D)) {
                    h.be.conv2d(h.in(x), h.in(w), h.in(bias), h.out(y), s);
                }
            }
        }
    }

    @Override
    public void conv2dBackwardInput(DeviceBuffer dy, DeviceBuffer w, DeviceBuffer dx, Conv2dShape s) {
        switch (route(BackendOp.CONV2D_BACKWARD_INPUT)) {
            case DEVICE -> device.conv2dBackwardInput(dy, w, dx, s);
            case COMPOSITE -> Backend.super.conv2dBackwardInput(dy, w, dx, s);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.CONV2D_BACKWARD_INPUT)) {
                    h.be.conv2dBackwardInput(h.in(dy), h.in(w), h.out(dx), s);
                }
            }
        }
    }

    @Override
    public void conv2dBackwardWeight(DeviceBuffer x, DeviceBuffer dy, DeviceBuffer dw, DeviceBuffer dbias, Conv2dShape s) {
        switch (route(BackendOp.CONV2D_BACKWARD_WEIGHT)) {
            case DEVICE -> device.conv2dBackwardWeight(x, dy, dw, dbias, s);
            case COMPOSITE -> Backend.super.conv2dBackwardWeight(x, dy, dw, dbias, s);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.CONV2D_BACKWARD_WEIGHT)) {
                    h.be.conv2dBackwardWeight(h.in(x), h.in(dy), h.out(dw), h.out(dbias), s);
                }
            }
        }
    }

    @Override
    public void depthwiseCausalConv1d(DeviceBuffer x, DeviceBuffer w, DeviceBuffer bias, DeviceBuffer y, int b, int l, int c, int k) {
        switch (route(BackendOp.DEPTHWISE_CAUSAL_CONV1D)) {
            case DEVICE -> device.depthwiseCausalConv1d(x, w, bias, y, b, l, c, k);
            case COMPOSITE -> Backend.super.depthwiseCausalConv1d(x, w, bias, y, b, l, c, k);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.DEPTHWISE_CAUSAL_CONV1D)) {
                    h.be.depthwiseCausalConv1d(h.in(x), h.in(w), h.in(bias), h.out(y), b, l, c, k);
                }
            }
        }
    }

    @Override
    public void depthwiseCausalConv1dBackward(DeviceBuffer x, DeviceBuffer w, DeviceBuffer dy, DeviceBuffer dx, DeviceBuffer dw, DeviceBuffer dbias, int b, int l, int c, int k) {
        switch (route(BackendOp.DEPTHWISE_CAUSAL_CONV1D_BACKWARD)) {
            case DEVICE -> device.depthwiseCausalConv1dBackward(x, w, dy, dx, dw, dbias, b, l, c, k);
            case COMPOSITE -> Backend.super.depthwiseCausalConv1dBackward(x, w, dy, dx, dw, dbias, b, l, c, k);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.DEPTHWISE_CAUSAL_CONV1D_BACKWARD)) {
                    h.be.depthwiseCausalConv1dBackward(h.in(x), h.in(w), h.in(dy), h.out(dx), h.out(dw), h.out(dbias), b, l, c, k);
                }
            }
        }
    }

    @Override
    public void gather(DeviceBuffer src, DeviceBuffer dst, int outer, int srcAxis, int inner, int[] index) {
        switch (route(BackendOp.GATHER)) {
            case DEVICE -> device.gather(src, dst, outer, srcAxis, inner, index);
            case COMPOSITE -> Backend.super.gather(src, dst, outer, srcAxis, inner, index);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.GATHER)) {
                    h.be.gather(h.in(src), h.out(dst), outer, srcAxis, inner, index);
                }
            }
        }
    }

    @Override
    public void scatterAdd(DeviceBuffer src, DeviceBuffer dst, int outer, int dstAxis, int inner, int[] index) {
        switch (route(BackendOp.SCATTER_ADD)) {
            case DEVICE -> device.scatterAdd(src, dst, outer, dstAxis, inner, index);
            case COMPOSITE -> Backend.super.scatterAdd(src, dst, outer, dstAxis, inner, index);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SCATTER_ADD)) {
                    h.be.scatterAdd(h.in(src), h.out(dst), outer, dstAxis, inner, index);
                }
            }
        }
    }

    @Override
    public void selectiveScan(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d, DeviceBuffer y, int b, int l, int e, int n) {
        switch (route(BackendOp.SELECTIVE_SCAN)) {
            case DEVICE -> device.selectiveScan(u, delta, a, bm, cm, d, y, b, l, e, n);
            case COMPOSITE -> Backend.super.selectiveScan(u, delta, a, bm, cm, d, y, b, l, e, n);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SELECTIVE_SCAN)) {
                    h.be.selectiveScan(h.in(u), h.in(delta), h.in(a), h.in(bm), h.in(cm), h.in(d), h.out(y), b, l, e, n);
                }
            }
        }
    }

    @Override
    public void selectiveScanBackward(DeviceBuffer u, DeviceBuffer delta, DeviceBuffer a, DeviceBuffer bm, DeviceBuffer cm, DeviceBuffer d, DeviceBuffer dy, DeviceBuffer du, DeviceBuffer ddelta, DeviceBuffer da, DeviceBuffer dbm, DeviceBuffer dcm, DeviceBuffer dd, int b, int l, int e, int n) {
        switch (route(BackendOp.SELECTIVE_SCAN_BACKWARD)) {
            case DEVICE -> device.selectiveScanBackward(u, delta, a, bm, cm, d, dy, du, ddelta, da, dbm, dcm, dd, b, l, e, n);
            case COMPOSITE -> Backend.super.selectiveScanBackward(u, delta, a, bm, cm, d, dy, du, ddelta, da, dbm, dcm, dd, b, l, e, n);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.SELECTIVE_SCAN_BACKWARD)) {
                    h.be.selectiveScanBackward(h.in(u), h.in(delta), h.in(a), h.in(bm), h.in(cm), h.in(d), h.in(dy), h.out(du), h.out(ddelta), h.out(da), h.out(dbm), h.out(dcm), h.out(dd), b, l, e, n);
                }
            }
        }
    }

    @Override
    public void adamw(DeviceBuffer param, DeviceBuffer grad, DeviceBuffer m, DeviceBuffer v, long count, float lr, float beta1, float beta2, float eps, float weightDecay, long step) {
        switch (route(BackendOp.ADAMW)) {
            case DEVICE -> device.adamw(param, grad, m, v, count, lr, beta1, beta2, eps, weightDecay, step);
            case COMPOSITE -> Backend.super.adamw(param, grad, m, v, count, lr, beta1, beta2, eps, weightDecay, step);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.ADAMW)) {
                    h.be.adamw(h.out(param), h.in(grad), h.out(m), h.out(v), count, lr, beta1, beta2, eps, weightDecay, step);
                }
            }
        }
    }

    @Override
    public void randomUniform(DeviceBuffer dst, long count, long seed, long offset) {
        switch (route(BackendOp.RANDOM_UNIFORM)) {
            case DEVICE -> device.randomUniform(dst, count, seed, offset);
            case COMPOSITE -> Backend.super.randomUniform(dst, count, seed, offset);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.RANDOM_UNIFORM)) {
                    h.be.randomUniform(h.out(dst), count, seed, offset);
                }
            }
        }
    }

    @Override
    public void randomNormal(DeviceBuffer dst, long count, long seed, long offset) {
        switch (route(BackendOp.RANDOM_NORMAL)) {
            case DEVICE -> device.randomNormal(dst, count, seed, offset);
            case COMPOSITE -> Backend.super.randomNormal(dst, count, seed, offset);
            case HOST -> {
                try (OnHost h = new OnHost(BackendOp.RANDOM_NORMAL)) {
                    h.be.randomNormal(h.out(dst), count, seed, offset);
                }
            }
        }
    }
}
