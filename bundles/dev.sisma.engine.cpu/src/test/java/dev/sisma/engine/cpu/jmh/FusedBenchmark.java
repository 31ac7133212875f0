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
import dev.sisma.engine.internal.Composites;
import dev.sisma.engine.spi.DeviceBuffer;

/**
 * Each fused AdaLN / Mamba-gate op of the CPU backend against the default composite it replaces
 * (the SPI's, on the same backend's primitives), at sisma-L/2's shapes for 256 tokens, batch 1:
 * [256, 1024] activations (modulate, layerNormModulate, gatedResidual) and the gate of a
 * [256, 2048] scan output by z read from in_proj's [256, 4096] output (siluGate).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class FusedBenchmark {
    @Param({"1", "2"})
    public int threads;

    static final int TOKENS = 256, D = 1024, E = 2048;
    private CpuBackend be;
    private DeviceBuffer x, y, out, shift, scale, gate, xz, g, gated;

    @Setup
    public void setup() {
        be = new CpuBackend(threads);
        x = random(TOKENS * D, 1);
        y = random(TOKENS * D, 2);
        out = be.allocate(TOKENS * D);
        shift = random(D, 3);
        scale = random(D, 4);
        gate = random(D, 5);
        xz = random(TOKENS * 2 * E, 6);
        g = random(TOKENS * E, 7);
        gated = be.allocate(TOKENS * E); // not in place: a gate applied again and again would decay to subnormals
    }

    private DeviceBuffer random(long n, long seed) {
        DeviceBuffer b = be.allocate(n);
        be.randomNormal(b, n, seed, 0);
        return b;
    }

    @TearDown
    public void tearDown() {
        for (DeviceBuffer b : new DeviceBuffer[] {x, y, out, shift, scale, gate, xz, g, gated}) b.close();
        be.close();
    }

    @Benchmark
    public DeviceBuffer modulateFused() {
        be.modulate(x, shift, scale, out, 1, TOKENS, D);
        return out;
    }

    @Benchmark
    public DeviceBuffer modulateComposite() {
        Composites.modulate(be, x, shift, scale, out, 1, TOKENS, D);
        return out;
    }

    @Benchmark
    public DeviceBuffer layerNormModulateFused() {
        be.layerNormModulate(x, shift, scale, out, 1, TOKENS, D, 1e-6f);
        return out;
    }

    @Benchmark
    public DeviceBuffer layerNormModulateComposite() {
        Composites.layerNormModulate(be, x, shift, scale, out, 1, TOKENS, D, 1e-6f);
        return out;
    }

    @Benchmark
    public DeviceBuffer gatedResidualFused() {
        be.gatedResidual(x, gate, y, out, 1, TOKENS, D);
        return out;
    }

    @Benchmark
    public DeviceBuffer gatedResidualComposite() {
        Composites.gatedResidual(be, x, gate, y, out, 1, TOKENS, D);
        return out;
    }

    @Benchmark
    public DeviceBuffer siluGateFused() {
        be.siluGate(g, xz, E, 2 * E, gated, TOKENS, E);
        return gated;
    }

    @Benchmark
    public DeviceBuffer siluGateComposite() {
        Composites.siluGate(be, g, xz, E, 2 * E, gated, TOKENS, E);
        return gated;
    }
}
