package dev.sisma.engine.cpu;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.TensorData;
import dev.sisma.engine.nn.Init;
import dev.sisma.engine.nn.LayerNorm;
import dev.sisma.engine.nn.Linear;
import dev.sisma.engine.nn.Module;
import dev.sisma.engine.nn.ModuleList;
import dev.sisma.engine.spi.Backend;

class ModuleTest {
    private static final CpuBackend BE = new CpuBackend(2);

    @AfterAll
    static void shutdown() { BE.close(); }

    static final class Block extends Module {
        final Linear inProj;
        final LayerNorm norm;

        Block(Backend be) {
            inProj = module("in_proj", new Linear(be, 4, 6, false));
            norm = module("norm", new LayerNorm(be, 6, 1e-6f, true));
            parameter("A_log", Tensor.zeros(be, 3, 2)).weightDecay(false);
        }
    }

    static final class Net extends Module {
        final ModuleList<Block> blocks = module("blocks", new ModuleList<>());
        final Linear head;

        Net(Backend be) {
            blocks.add(new Block(be));
            blocks.add(new Block(be));
            head = module("head", new Linear(be, 6, 2, true));
        }
    }

    @Test
    void dottedNamesInRegistrationOrder() {
        try (Net net = new Net(BE)) {
            // PyTorch's order: a module's own parameters first, then its children's
            assertEquals(List.of("blocks.0.A_log", "blocks.0.in_proj.weight", "blocks.0.norm.weight", "blocks.0.norm.bias",
                    "blocks.1.A_log", "blocks.1.in_proj.weight", "blocks.1.norm.weight", "blocks.1.norm.bias",
                    "head.weight", "head.bias"), List.copyOf(net.namedParameters().keySet()));
            assertEquals(2 * (24 + 12 + 6) + 14, net.parameterCount());
            assertEquals(List.of(6, 4), List.of(net.blocks.get(1).inProj.weight.value().dim(0), net.blocks.get(1).inProj.weight.value().dim(1)));
        }
    }

    @Test
    void stateDictRoundTripsAndStrictLoadNamesProblems() {
        try (Net a = new Net(BE); Net b = new Net(BE)) {
            long off = 0;
            for (var p : a.namedParameters().values()) { Init.normal(p, 0, 1, 5, off); off += p.value().size(); }
            Map<String, TensorData> sd = a.stateDict();
            b.loadStateDict(sd, true, false);
            for (String n : sd.keySet())
                assertArrayEquals(a.namedParameters().get(n).value().toArray(), b.namedParameters().get(n).value().toArray(), n);
            var missing = new java.util.LinkedHashMap<>(sd);
            missing.remove("head.bias");
            var e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(missing, true, false));
            assertTrue(e.getMessage().contains("head.bias"), e.getMessage());
            var wrong = new java.util.LinkedHashMap<>(sd);
            wrong.put("head.bias", TensorData.of(new float[3], 3));
            e = assertThrows(IllegalArgumentException.class, () -> b.loadStateDict(wrong, false, false));
            assertTrue(e.getMessage().contains("head.bias") && e.getMessage().contains("[3]"), e.getMessage());
        }
    }

    @Test
    void zeroCopyLoadAliasesNativeMemory() {
        try (Arena arena = Arena.ofConfined(); Linear lin = new Linear(BE, 2, 2, false)) {
            MemorySegment seg = arena.allocate(16);
            for (int i = 0; i < 4; i++) seg.setAtIndex(ValueLayout.JAVA_FLOAT, i, i + 1);
            lin.loadStateDict(Map.of("weight", new TensorData(dev.sisma.engine.Shape.of(2, 2), seg)), true, true);
            seg.setAtIndex(ValueLayout.JAVA_FLOAT, 0, 9f); // the parameter sees the file memory itself
            assertArrayEquals(new float[] {9, 2, 3, 4}, lin.weight.value().toArray());
            try (Scope s = Scope.open()) {
                assertArrayEquals(new float[] {9 + 2, 3 + 4}, lin.forward(Tensor.of(BE, new float[] {1, 1}, 1, 2)).toArray());
            }
        }
    }
}
