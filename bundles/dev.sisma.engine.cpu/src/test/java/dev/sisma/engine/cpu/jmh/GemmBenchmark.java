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

/**
 * GEMM in the Linear layout (x [M, K] times W [N, K]^T). Run:
 * {@code mvn -q test-compile -pl bundles/dev.sisma.engine.cpu && java --add-modules jdk.incubator.vector
 * -cp "$(cat cp.txt)" org.openjdk.jmh.Main GemmBenchmark} (see bundles/dev.sisma.engine.cpu/README.md).
 * GFLOPS = 2 M N K / time.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--add-modules=jdk.incubator.vector")
public class GemmBenchmark {
    @Param({"1024x1024x1024", "256x1024x4096", "256x4096x1024"})
    public String mnk;

    @Param({"1", "0"})
    public int threads; // 0 = all cores

    private CpuBackend be;
    private DeviceBuffer a, w, c;
    private int m, n, k;

    @Setup
    public void setup() {
        String[] p = mnk.split("x");
        m = Integer.parseInt(p[0]);
        n = Integer.parseInt(p[1]);
        k = Integer.parseInt(p[2]);
        be = threads == 0 ? new CpuBackend() : new CpuBackend(threads);
        a = be.allocate((long) m * k);
        w = be.allocate((long) n * k);
        c = be.allocate((long) m * n);
        be.randomUniform(a, a.size(), 1, 0);
        be.randomUniform(w, w.size(), 2, 0);
    }

    @TearDown
    public void tearDown() {
        a.close();
        w.close();
        c.close();
        be.close();
    }

    @Benchmark
    public DeviceBuffer gemm() {
        be.gemm(false, true, 1, m, n, k, 1f, a, 0, w, 0, 0f, c, null);
        return c;
    }
}
