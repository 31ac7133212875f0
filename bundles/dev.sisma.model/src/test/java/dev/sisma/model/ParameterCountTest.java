package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.Shape;

/** Parameter names, shapes and counts of the named configs, counted without allocating anything. */
class ParameterCountTest {

    private static long sum(Map<String, Shape> shapes, String prefix) {
        return shapes.entrySet().stream().filter(e -> e.getKey().startsWith(prefix)).mapToLong(e -> e.getValue().size()).sum();
    }

    @Test
    void sismaL2HasThePapersParameterCount() {
        Map<String, Shape> shapes = Sisma.parameterShapes(SismaConfig.named("sisma-L/2"));
        long total = shapes.values().stream().mapToLong(Shape::size).sum();
        // the paper: 799M; within 1%
        assertTrue(Math.abs(total - 799e6) / 799e6 < 0.01, "sisma-L/2 has " + total + " parameters");
        // the spec's breakdown: 802.2M in all, 33.27M a block
        assertEquals(802.2e6, total, 0.05e6);
        assertEquals(6.66e6, sum(shapes, "blocks.0.self_mamba."), 0.01e6);
        assertEquals(8.77e6, sum(shapes, "blocks.0.cross_mamba."), 0.01e6);
        assertEquals(8.39e6, sum(shapes, "blocks.0.mlp."), 0.01e6);
        assertEquals(9.45e6, sum(shapes, "blocks.0.adaLN_modulation."), 0.01e6);
        assertEquals(33.27e6, sum(shapes, "blocks.0."), 0.01e6);
        assertEquals(798.5e6, sum(shapes, "blocks."), 0.3e6); // the spec rounds 33.27M x 24
    }

    @Test
    void namesAndShapesFollowTheSpecTable() {
        SismaConfig cfg = SismaConfig.named("sisma-L/2");
        Map<String, Shape> s = Sisma.parameterShapes(cfg);
        int d = 1024, e = 2048, n = 16, r = 64, k = 4, p = 2, c = 4;
        Map<String, Shape> expected = new java.util.LinkedHashMap<>();
        expected.put("x_embedder.proj.weight", Shape.of(d, c, p, p));
        expected.put("x_embedder.proj.bias", Shape.of(d));
        expected.put("mask_embedder.proj.weight", Shape.of(d, 19, p, p));
        expected.put("mask_embedder.proj.bias", Shape.of(d));
        expected.put("t_embedder.mlp.0.weight", Shape.of(d, 256));
        expected.put("t_embedder.mlp.0.bias", Shape.of(d));
        expected.put("t_embedder.mlp.2.weight", Shape.of(d, d));
        expected.put("t_embedder.mlp.2.bias", Shape.of(d));
        for (String m : new String[] {"self_mamba", "cross_mamba"}) {
            String b = "blocks.5." + m + ".";
            expected.put(b + "in_proj.weight", Shape.of(2 * e, d));
            expected.put(b + "conv1d.weight", Shape.of(e, 1, k));
            expected.put(b + "conv1d.bias", Shape.of(e));
            expected.put(b + "dt_proj.weight", Shape.of(e, r));
            expected.put(b + "dt_proj.bias", Shape.of(e));
            expected.put(b + "A_log", Shape.of(e, n));
            expected.put(b + "D", Shape.of(e));
            expected.put(b + "out_proj.weight", Shape.of(d, e));
        }
        expected.put("blocks.5.self_mamba.x_proj.weight", Shape.of(r + 2 * n, e));
        expected.put("blocks.5.cross_mamba.cond_proj.weight", Shape.of(e, d));
        expected.put("blocks.5.cross_mamba.conv1d_m.weight", Shape.of(e, 1, k));
        expected.put("blocks.5.cross_mamba.conv1d_m.bias", Shape.of(e));
        expected.put("blocks.5.cross_mamba.x_proj_dt.weight", Shape.of(r, e));
        expected.put("blocks.5.cross_mamba.x_proj_bc.weight", Shape.of(2 * n, e));
        expected.put("blocks.5.mlp.0.weight", Shape.of(4 * d, d));
        expected.put("blocks.5.mlp.0.bias", Shape.of(4 * d));
        expected.put("blocks.5.mlp.2.weight", Shape.of(d, 4 * d));
        expected.put("blocks.5.mlp.2.bias", Shape.of(d));
        expected.put("blocks.5.adaLN_modulation.1.weight", Shape.of(9 * d, d));
        expected.put("blocks.5.adaLN_modulation.1.bias", Shape.of(9 * d));
        expected.put("final_layer.adaLN_modulation.1.weight", Shape.of(2 * d, d));
        expected.put("final_layer.adaLN_modulation.1.bias", Shape.of(2 * d));
        expected.put("final_layer.linear.weight", Shape.of(p * p * c, d));
        expected.put("final_layer.linear.bias", Shape.of(p * p * c));
        expected.forEach((name, shape) -> assertEquals(shape, s.get(name), name));
        // nothing beyond the table
        assertEquals(8 + 28 * 24 + 4, s.size(), "8 embedder tensors, 28 a block, 4 final");
    }

    @Test
    void smallerNamedConfigs() {
        long b = Sisma.parameterCount(SismaConfig.named("sisma-B/2"));
        long sm = Sisma.parameterCount(SismaConfig.named("sisma-S/2"));
        long demo = Sisma.parameterCount(SismaConfig.named("demo"));
        assertTrue(b > 200e6 && b < 250e6, "sisma-B/2: " + b);
        assertTrue(sm > 50e6 && sm < 65e6, "sisma-S/2: " + sm);
        assertTrue(demo > 1e6 && demo < 4e6, "demo: " + demo);
        // the demo's null mask is the one extra tensor
        assertEquals(Shape.of(64, 128), Sisma.parameterShapes(SismaConfig.named("demo")).get("mask_embedder.null_tokens"));
    }

    @Test
    void attentionBaselineHasDiTBlocks() {
        SismaConfig cfg = SismaConfig.named("sisma-S/2").with("block_type", "attention");
        Map<String, Shape> s = Sisma.parameterShapes(cfg);
        assertEquals(Shape.of(3 * 384, 384), s.get("blocks.0.attn.qkv.weight"));
        assertEquals(Shape.of(384, 384), s.get("blocks.0.cross_attn.q.weight"));
        assertEquals(Shape.of(2 * 384, 384), s.get("blocks.0.cross_attn.kv.weight"));
        assertEquals(Shape.of(384, 384), s.get("blocks.11.cross_attn.proj.weight"));
        assertTrue(s.keySet().stream().noneMatch(n -> n.contains("mamba")));
    }
}
