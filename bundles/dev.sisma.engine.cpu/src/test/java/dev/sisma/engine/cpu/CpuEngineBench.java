package dev.sisma.engine.cpu;

import java.util.Map;

import dev.sisma.engine.bench.EngineBench;
import dev.sisma.engine.cpu.internal.CpuBackendThreads;

/**
 * The engine's figures on the CPU backend at 1 thread and at all cores, as JSON, outside OSGi:
 * {@code java --add-modules jdk.incubator.vector -cp <engine classes>:<cpu classes>:<cpu test classes>
 * dev.sisma.engine.cpu.CpuEngineBench [seconds]} (what {@code src/test/python/bench_peers.py} runs).
 */
public final class CpuEngineBench {
    private CpuEngineBench() {}

    public static void main(String[] args) {
        double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 1.0;
        System.out.println(EngineBench.run(new CpuBackendThreads(Map.of()), seconds));
    }
}
