package dev.sisma.engine.cpu.jmh;

import java.util.concurrent.TimeUnit;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The transcendental unary ops forward and backward over 1M floats in [-4, 4) on one thread. Run with
 * {@code -prof gc}: gc.alloc.rate.norm should be a few bytes per call; a vector boxed per iteration
 * shows as 4-8 MB (see the note on speed in {@code Elementwise}).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class UnaryBenchmark {
    @Param({"EXP", "LOG", "TANH", "SIGMOID", "SILU", "SOFTPLUS", "GELU_TANH"})
    public UnaryOp op;

    static final int COUNT = 1 << 20;
    private CpuBackend be;
    private DeviceBuffer x, dy, y;

    @Setup
    public void setup() {
        be = new CpuBackend(1);
        x = be.allocate(COUNT);
        be.randomUniform(x, COUNT, 1, 0);
        be.affine(x, x, COUNT, 8, op == UnaryOp.LOG ? 0.001f : -4); // log: positive inputs
        dy = be.allocate(COUNT);
        be.randomUniform(dy, COUNT, 2, 0);
        y = be.allocate(COUNT);
    }

    @TearDown
    public void tearDown() {
        x.close();
        dy.close();
        y.close();
        be.close();
    }

    @Benchmark
    public DeviceBuffer forward() {
        be.unary(op, x, y, COUNT);
        return y;
    }

    @Benchmark
    public DeviceBuffer backward() {
        be.unaryBackward(op, x, dy, y, COUNT);
        return y;
    }
}
