package dev.sisma.engine.cpu;

import java.util.Set;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.BackendOp;
import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * A backend with only what {@link Backend} requires, forwarded to the CPU backend: every other
 * method is the SPI's default composite. It answers false in {@link #supports} for the ops it is
 * told to lack (its methods for them still work: what a caller runs depends on {@link
 * dev.sisma.engine.spi.HostFallback} honouring the answer, which the tests check by counting).
 */
final class PrimitivesOnly implements Backend {
    private final CpuBackend cpu;
    private final Set<BackendOp> lacking;
    /** Calls of each primitive made on this backend (not on a host it was moved to). */
    final int[] calls = new int[BackendOp.values().length];

    PrimitivesOnly(CpuBackend cpu, Set<BackendOp> lacking) {
        this.cpu = cpu;
        this.lacking = lacking;
    }

    private void count(BackendOp op) {
        synchronized (calls) {
            calls[op.ordinal()]++;
        }
    }

    @Override public boolean supports(BackendOp op) { return !lacking.contains(op); }
    @Override public String name() { return "primitives-only"; }
    @Override public String device() { return "the CPU backend's primitives"; }
    @Override public DeviceBuffer allocate(long floats) { return cpu.allocate(floats); }
    @Override public DeviceBuffer upload(float[] src) { return cpu.upload(src); }

    @Override public void download(DeviceBuffer src, long srcOffset, float[] dst, int dstOffset, int count) {
        cpu.download(src, srcOffset, dst, dstOffset, count);
    }

    @Override public void copy(DeviceBuffer src, long srcOffset, long[] srcStrides, DeviceBuffer dst, long dstOffset, long[] dstStrides, int[] shape) {
        cpu.copy(src, srcOffset, srcStrides, dst, dstOffset, dstStrides, shape);
    }

    @Override public void gemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, DeviceBuffer a, long strideA,
                               DeviceBuffer b, long strideB, float beta, DeviceBuffer c, DeviceBuffer bias) {
        count(BackendOp.GEMM);
        cpu.gemm(transA, transB, batch, m, n, k, alpha, a, strideA, b, strideB, beta, c, bias);
    }

    @Override public void unary(UnaryOp op, DeviceBuffer x, DeviceBuffer y, long count) {
        count(BackendOp.UNARY);
        cpu.unary(op, x, y, count);
    }

    @Override public void binary(BinaryOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        count(BackendOp.BINARY);
        cpu.binary(op, a, aStrides, b, bStrides, out, shape);
    }

    @Override public void compare(CompareOp op, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides, DeviceBuffer out, int[] shape) {
        count(BackendOp.COMPARE);
        cpu.compare(op, a, aStrides, b, bStrides, out, shape);
    }

    @Override public void select(DeviceBuffer cond, long[] condStrides, DeviceBuffer a, long[] aStrides, DeviceBuffer b, long[] bStrides,
                                 DeviceBuffer out, int[] shape) {
        count(BackendOp.SELECT);
        cpu.select(cond, condStrides, a, aStrides, b, bStrides, out, shape);
    }

    @Override public void reduce(ReduceOp op, DeviceBuffer x, DeviceBuffer y, int outer, int axis, int inner) {
        count(BackendOp.REDUCE);
        cpu.reduce(op, x, y, outer, axis, inner);
    }
}
