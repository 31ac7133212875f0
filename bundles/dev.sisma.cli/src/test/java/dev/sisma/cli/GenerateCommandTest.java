package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.BundledModels;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.internal.SismaGenerator;
import dev.sisma.model.sampling.Samplers;

class GenerateCommandTest {
    @TempDir
    Path dir;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();
    final List<GenerationRequest> requests = new ArrayList<>();

    /** A generator that paints each pixel its class colour plus the seed in the blue low bits: easy to check. */
    final Generator paintByClass = new Generator() {
        @Override
        public List<String> samplers() {
            return List.of("euler", "heun");
        }

        @Override
        public List<GeneratedImage> generate(GenerationRequest r, Progress p) {
            requests.add(r);
            Mask m = r.mask().resizeNearest(32, 32);
            List<GeneratedImage> images = new ArrayList<>();
            for (int s = 0; s < r.samples(); s++) {
                int[] rgb = new int[32 * 32];
                for (int i = 0; i < rgb.length; i++) {
                    rgb[i] = FaceClass.of(m.classAt(i % 32, i / 32)).rgb() ^ (int) ((r.seed() + s) & 3);
                }
                images.add(new GeneratedImage(r.seed() + s, 32, 32, rgb));
                p.step(s + 1, r.samples(), 0.01);
            }
            return images;
        }
    };

    int run(Generator g, String... argv) throws Exception {
        GenerateCommand c = new GenerateCommand();
        if (g != null) {
            c.setGenerator(g);
        }
        SismaCli cli = new SismaCli("0");
        cli.addCommand(c);
        List<String> args = new ArrayList<>(List.of("generate"));
        args.addAll(List.of(argv));
        return cli.run(args, new dev.sisma.api.cli.CommandContext() {
            public PrintStream out() {
                return new PrintStream(out, true, StandardCharsets.UTF_8);
            }

            public PrintStream err() {
                return new PrintStream(err, true, StandardCharsets.UTF_8);
            }

            public java.io.InputStream in() {
                return new ByteArrayInputStream(new byte[0]);
            }

            public Path workingDirectory() {
                return dir;
            }
        });
    }

    Path faceMask() throws Exception {
        byte[] c = new byte[64 * 64];
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                c[y * 64 + x] = (byte) (y < 32 ? FaceClass.HAIR.index() : FaceClass.SKIN.index());
            }
        }
        Path p = dir.resolve("face.png");
        MaskFiles.writeIndex(new Mask(64, 64, c), p);
        return p;
    }

    @Test
    void writesOneFilePerSeedAndASheet() throws Exception {
        faceMask();
        assertEquals(0, run(paintByClass, "--mask", "face.png", "--samples", "3", "--seed", "7", "--steps", "9",
                "--sampler", "heun", "--out", "out"), err.toString());
        for (int s = 7; s < 10; s++) {
            BufferedImage img = ImageIO.read(dir.resolve("out/face-s" + s + ".png").toFile());
            assertEquals(32, img.getWidth());
            assertEquals(FaceClass.HAIR.rgb() ^ (s & 3), img.getRGB(5, 5) & 0xFFFFFF);
            assertEquals(FaceClass.SKIN.rgb() ^ (s & 3), img.getRGB(5, 25) & 0xFFFFFF);
        }
        BufferedImage sheet = ImageIO.read(dir.resolve("out/face-sheet.png").toFile());
        assertEquals(256, sheet.getHeight());
        assertEquals(4 * 256 + 3 * 4, sheet.getWidth());
        assertEquals(FaceClass.HAIR.rgb(), sheet.getRGB(10, 10) & 0xFFFFFF, "first tile is the mask");
        GenerationRequest r = requests.get(0);
        assertEquals(9, r.steps());
        assertEquals("heun", r.sampler());
        assertEquals(64, r.mask().width());
        assertTrue(err.toString().contains("seed 7"), err.toString());
    }

    /** {@link #paintByClass} that ships two models. */
    Generator withModels(Path demo256) {
        return new Generator() {
            @Override
            public List<String> samplers() {
                return paintByClass.samplers();
            }

            @Override
            public List<String> models() {
                return List.of("demo-32", "demo-256");
            }

            @Override
            public java.util.Optional<Path> model(String name) {
                return name.equals("demo-256") ? java.util.Optional.of(demo256) : java.util.Optional.empty();
            }

            @Override
            public List<GeneratedImage> generate(GenerationRequest r, Progress p) {
                return paintByClass.generate(r, p);
            }
        };
    }

    @Test
    void modelChoosesABundledModelOrAFile() throws Exception {
        faceMask();
        Path bundled = dir.resolve("bundled-256.safetensors");
        Generator g = withModels(bundled);
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--model", "demo-256", "--out", "out"), err.toString());
        assertEquals(bundled, requests.get(0).checkpoint());
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--model", "mine.safetensors", "--out", "out"), err.toString());
        assertEquals(dir.resolve("mine.safetensors"), requests.get(1).checkpoint());
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--checkpoint", "old.safetensors", "--out", "out"), err.toString());
        assertEquals(dir.resolve("old.safetensors"), requests.get(2).checkpoint());
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--out", "out"), err.toString());
        assertEquals(null, requests.get(3).checkpoint(), "no --model: the generator's default");
        err.reset();
        assertEquals(2, run(g, "--mask", "face.png", "--model", "demo-512", "--out", "out"));
        assertTrue(err.toString().contains("unknown model 'demo-512'") && err.toString().contains("demo-256"), err.toString());
        err.reset();
        assertEquals(2, run(g, "--mask", "face.png", "--model", "demo-256", "--checkpoint", "x.safetensors", "--out", "out"));
        assertEquals(4, requests.size());
    }

    @Test
    void vaePassesTheAutoencoderWeightsOfALatentModel() throws Exception {
        faceMask();
        Generator g = withModels(dir.resolve("bundled-256.safetensors"));
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--model", "sd.safetensors", "--vae",
                "vae/diffusion_pytorch_model.safetensors", "--out", "out"), err.toString());
        assertEquals(dir.resolve("vae/diffusion_pytorch_model.safetensors"), requests.get(0).vae());
        assertEquals(0, run(g, "--mask", "face.png", "--samples", "1", "--out", "out"), err.toString());
        assertEquals(null, requests.get(1).vae(), "no --vae: the autoencoder the model's config names");
    }

    @Test
    void leavesSamplerStepsAndGuidanceToTheModelUnlessGiven() throws Exception {
        faceMask();
        assertEquals(0, run(paintByClass, "--mask", "face.png", "--samples", "1", "--out", "out"), err.toString());
        GenerationRequest r = requests.get(0);
        assertEquals(0, r.steps());
        assertEquals(null, r.sampler());
        assertTrue(Double.isNaN(r.cfgScale()));
        GenerationRequest filled = r.withDefaults("heun", 25, 2.0);
        assertEquals(25, filled.steps());
        assertEquals("heun", filled.sampler());
        assertEquals(2.0, filled.cfgScale());
    }

    @Test
    void aCorruptMaskIsOneLineAndExitTwo() throws Exception {
        Files.write(dir.resolve("bad.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G', 13, 10, 26, 10, 0, 0});
        assertEquals(2, run(paintByClass, "--mask", "bad.png", "--out", "out"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertTrue(e.startsWith("sisma generate: ") && e.contains("bad.png"), e);
        assertEquals(1, e.lines().count(), e);
        assertFalse(Files.exists(dir.resolve("out")), "nothing written for a bad mask");
    }

    @Test
    void aCelebAMaskHqPartFileGeneratesItsWholeEntry() throws Exception {
        Path mini = Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini");
        Path part = mini.resolve("CelebAMask-HQ-mask-anno/0/00001_hair.png");
        assertEquals(0, run(paintByClass, "--mask", part.toString(), "--samples", "1", "--seed", "3", "--out", "out"),
                err.toString());
        assertEquals(MaskFiles.readIndex(mini.resolve("labels/1.png")), requests.get(0).mask(), "the merged entry");
        assertTrue(Files.isRegularFile(dir.resolve("out/00001-s3.png")), "named after the entry");
        assertTrue(Files.isRegularFile(dir.resolve("out/00001-sheet.png")));
    }

    @Test
    void sampleTakesEachPartEntryOnce() throws Exception {
        Path mini = Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini");
        List<Path> masks = MaskFiles.inFolder(mini.resolve("CelebAMask-HQ-mask-anno/0"));
        assertEquals(List.of("00000", "00001", "00002"), masks.stream().map(MaskFiles::outputName).toList());
    }

    @Test
    void anOutputThatIsAFileIsRefusedBeforeAnySampling() throws Exception {
        faceMask();
        Files.writeString(dir.resolve("taken"), "x");
        assertEquals(2, run(paintByClass, "--mask", "face.png", "--out", "taken"));
        assertEquals("sisma generate: " + dir.resolve("taken") + ": --out needs a folder, but this is an existing file\n",
                err.toString(StandardCharsets.UTF_8));
        assertTrue(requests.isEmpty(), "the generator was not called");
    }

    @Test
    void anUnknownSamplerIsAUsageError() throws Exception {
        faceMask();
        assertEquals(2, run(paintByClass, "--mask", "face.png", "--sampler", "ddim", "--out", "out"));
        assertTrue(err.toString().contains("unknown sampler 'ddim'; available: [euler, heun]"), err.toString());
    }

    @Test
    void withoutAGeneratorItSaysWhy() throws Exception {
        faceMask();
        assertEquals(1, run(null, "--mask", "face.png", "--out", "out"));
        assertTrue(err.toString().contains("no face generator is running"), err.toString());
    }

    @Test
    void weightsPassesTheFormatAndABadOneIsAUsageError() throws Exception {
        faceMask();
        assertEquals(0, run(paintByClass, "--mask", "face.png", "--samples", "1", "--weights", "bf16", "--out", "out"), err.toString());
        assertEquals(WeightFormat.BF16, requests.get(0).weights());
        assertTrue(err.toString().contains(", bf16 weights"), err.toString());
        assertEquals(0, run(paintByClass, "--mask", "face.png", "--samples", "1", "--weights=F16", "--out", "out"), err.toString());
        assertEquals(WeightFormat.F16, requests.get(1).weights());
        assertEquals(0, run(paintByClass, "--mask", "face.png", "--samples", "1", "--out", "out"), err.toString());
        assertEquals(null, requests.get(2).weights(), "no --weights: the generator's default (-Dsisma.weights, else f32)");
        err.reset();
        assertEquals(2, run(paintByClass, "--mask", "face.png", "--weights", "fp8", "--out", "out"));
        String e = err.toString(StandardCharsets.UTF_8);
        assertEquals("sisma generate: --weights: unknown weight format 'fp8'; choices: f32, bf16, f16", e.lines().findFirst().orElseThrow());
        assertEquals(3, requests.size(), "the generator was not called");
        out.reset();
        assertEquals(0, run(paintByClass, "--help"));
        assertTrue(out.toString().contains("--weights F ") && out.toString().contains("f32, bf16 or f16"), out.toString());
    }

    /**
     * generate --weights bf16 on the bundled demo model, loaded in the request's format as the model's
     * generator does ({@link Checkpoints#loadModel} with {@link GenerationRequest#weights()}): every
     * Linear weight goes to the backend as BF16 (none for f32), and the image stays within a few
     * levels of the float32 one (SismaGeneratorTest checks that it is not the same image).
     */
    @Test
    void weightsBf16RunsTheModelWithBf16LinearWeights() throws Exception {
        faceMask();
        List<DType> uploads = new ArrayList<>();
        try (CpuBackend cpu = new CpuBackend(2); BundledModels bundled = new BundledModels()) {
            Backend recording = HalfUploads.recording(cpu, uploads);
            Generator model = new Generator() {
                @Override
                public List<String> samplers() {
                    return Samplers.names();
                }

                @Override
                public List<GeneratedImage> generate(GenerationRequest r, Progress p) {
                    try (Sisma m = Checkpoints.loadModel(bundled.path(BundledModels.DEFAULT), null, recording, r.weights())) {
                        return SismaGenerator.generate(m, Samplers.byName(r.sampler()).orElseThrow(), r, p);
                    }
                }
            };
            int[][] images = new int[2][];
            String[] formats = {"f32", "bf16"};
            for (int i = 0; i < 2; i++) {
                assertEquals(0, run(model, "--mask", "face.png", "--samples", "1", "--seed", "42", "--steps", "5", "--sampler", "euler",
                        "--weights", formats[i], "--out", formats[i]), err.toString());
                BufferedImage img = ImageIO.read(dir.resolve(formats[i] + "/face-s42.png").toFile());
                images[i] = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
                if (i == 0) {
                    assertEquals(List.of(), uploads, "f32: the Linear weights stay float32");
                }
            }
            assertTrue(uploads.size() > 10 && uploads.stream().allMatch(DType.BF16::equals), "bf16: every Linear weight as BF16: " + uploads);
            int dp = 0;
            for (int p = 0; p < images[0].length; p++) {
                for (int sh = 0; sh < 24; sh += 8) {
                    dp = Math.max(dp, Math.abs((images[0][p] >> sh & 255) - (images[1][p] >> sh & 255)));
                }
            }
            assertTrue(dp <= 8, "bf16 image vs f32: max difference " + dp + " levels (bound 8)");
        }
    }
}
