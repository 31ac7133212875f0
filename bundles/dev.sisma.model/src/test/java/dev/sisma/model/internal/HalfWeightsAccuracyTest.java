package dev.sisma.model.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.DType;
import dev.sisma.model.BundledModels;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.sampling.Samplers;

/**
 * The bundled demo model with its Linear weights in BF16 and F16 against float32: one velocity
 * (max |dv| relative to max |v|) and a 25-step Euler image from the same noise (max pixel
 * difference, 0-255) stay within bounds set from the formats' precision (BF16 keeps 8 significant
 * bits, F16 11), and the weights were really converted. Prints the figures.
 */
class HalfWeightsAccuracyTest {
    @TempDir
    Path dir;

    private record Run(float[] v, int[] rgb) {}

    private static Run run(Path ckpt, CpuBackend be, DType format) {
        try (Sisma m = Checkpoints.loadModel(ckpt, null, be)) {
            if (format != DType.F32) assertTrue(m.halfLinearWeights(format) > 10, "Linear weights converted");
            SismaConfig cfg = m.config();
            float[] v;
            try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                Tensor x = Tensor.randn(be, 7, 0, 1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
                Tensor mask = Tensor.rand(be, 8, 0, 1, cfg.maskClasses(), cfg.imageSize(), cfg.imageSize());
                v = m.forward(x, Tensor.full(be, 0.5f, 1), mask).toArray();
            }
            byte[] classes = new byte[64 * 64];
            for (int i = 0; i < classes.length; i++) classes[i] = (byte) (i % 64 < 20 ? 0 : i / 64 < 40 ? 1 : 13);
            List<GeneratedImage> img = SismaGenerator.generate(m, Samplers.byName("euler").orElseThrow(),
                    new GenerationRequest(new Mask(64, 64, classes), 1, 42, 25, "euler", 1.0, ckpt, null), Progress.NONE);
            return new Run(v, img.get(0).rgb());
        }
    }

    @Test
    void halfWeightsStayCloseToFloat32() throws Exception {
        Path ckpt = dir.resolve("demo.safetensors");
        try (InputStream in = BundledModels.class.getResourceAsStream(BundledModels.resource(BundledModels.DEFAULT))) {
            Files.copy(in, ckpt);
        }
        try (CpuBackend be = new CpuBackend(2)) {
            Run f32 = run(ckpt, be, DType.F32);
            double vmax = 0;
            for (float x : f32.v) vmax = Math.max(vmax, Math.abs(x));
            // relative to max |v|: BF16 rounds each weight by up to 2^-9, F16 by 2^-12 (relative)
            for (DType f : new DType[] {DType.BF16, DType.F16}) {
                Run h = run(ckpt, be, f);
                double dv = 0;
                for (int i = 0; i < f32.v.length; i++) dv = Math.max(dv, Math.abs(f32.v[i] - h.v[i]));
                int dp = 0;
                assertEquals(f32.rgb.length, h.rgb.length);
                for (int i = 0; i < f32.rgb.length; i++)
                    for (int sh = 0; sh < 24; sh += 8) dp = Math.max(dp, Math.abs((f32.rgb[i] >> sh & 255) - (h.rgb[i] >> sh & 255)));
                System.out.printf("%s weights vs F32: max |dv| %.3g (max |v| %.3g), 25-step image max pixel difference %d of 255%n", f, dv, vmax, dp);
                assertTrue(dv > 0, f + ": the weights were not rounded");
                double vBound = f == DType.BF16 ? 0.03 : 0.004;
                int pBound = f == DType.BF16 ? 8 : 4;
                assertTrue(dv <= vBound * vmax, f + ": max |dv| " + dv + " over " + vBound + " of max |v| " + vmax);
                assertTrue(dp <= pBound, f + ": 25-step image differs by " + dp + " levels (bound " + pBound + ")");
            }
        }
    }
}
