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

/** Selective scan forward and backward at B 1, L 256, E 2048, N 16 (one SISMA block's scan at D 1024). */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class ScanBenchmark {
    @Param({"1", "0"})
    public int threads; // 0 = all cores

    static final int B = 1, L = 256, E = 2048, N = 16;
    private CpuBackend be;
    private DeviceBuffer u, dt, a, bm, cm, d, y, dy, du, ddt, da, dbm, dcm, dd;

    private DeviceBuffer rnd(long n, long seed, float scale, float shift) {
        DeviceBuffer x = be.allocate(n);
        be.randomUniform(x, n, seed, 0);
        be.affine(x, x, n, scale, shift);
        return x;
    }

    @Setup
    public void setup() {
        be = threads == 0 ? new CpuBackend() : new CpuBackend(threads);
        long ble = (long) B * L * E, bln = (long) B * L * N;
        u = rnd(ble, 1, 2, -1); dt = rnd(ble, 2, 0.1f, 0.001f); a = rnd((long) E * N, 3, -1, -0.1f);
        bm = rnd(bln, 4, 2, -1); cm = rnd(bln, 5, 2, -1); d = rnd(E, 6, 1, 0.5f); dy = rnd(ble, 7, 2, -1);
        y = be.allocate(ble); du = be.allocate(ble); ddt = be.allocate(ble); da = be.allocate((long) E * N);
        dbm = be.allocate(bln); dcm = be.allocate(bln); dd = be.allocate(E);
    }

    @TearDown
    public void tearDown() {
        for (DeviceBuffer x : new DeviceBuffer[] {u, dt, a, bm, cm, d, y, dy, du, ddt, da, dbm, dcm, dd}) x.close();
        be.close();
    }

    @Benchmark
    public DeviceBuffer forward() {
        be.selectiveScan(u, dt, a, bm, cm, d, y, B, L, E, N);
        return y;
    }

    @Benchmark
    public DeviceBuffer backward() {
        be.selectiveScanBackward(u, dt, a, bm, cm, d, dy, du, ddt, da, dbm, dcm, dd, B, L, E, N);
        return du;
    }
}
