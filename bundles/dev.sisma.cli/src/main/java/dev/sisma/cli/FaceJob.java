package dev.sisma.cli;

import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.ImportedMask;
import dev.sisma.data.mask.MaskColours;
import dev.sisma.data.mask.MaskFiles;

/**
 * What {@code generate} and {@code sample} share: the sampling options, one mask file in, its
 * samples ({@code <mask>-s<seed>.png}) and a sheet ({@code <mask>-sheet.png}: mask | samples) out.
 */
final class FaceJob {
    static final Set<String> OPTIONS = Set.of("--samples", "--seed", "--steps", "--sampler", "--cfg", "--model", "--checkpoint",
            "--vae", "--backend", WeightFormat.OPTION, "--out");
    /** The option lines of both usages, indented like the lines before them. */
    static final String OPTIONS_USAGE = """
              --samples N       images per mask (default 4; seeds S, S+1, ...)
              --seed S          first seed (default: a random one, printed)
              --steps K         sampler steps (default: the model's)
              --sampler NAME    euler or heun, or one a bundle adds (default: the model's)
              --cfg X           classifier-free guidance scale, 1 = none (default: the model's)
              --model M         demo-32 (the default: 32x32 pixel space, 25 Heun steps), demo-256 (256x256 through
                                TAEF2's latents, 12 Heun steps), or a checkpoint FILE (safetensors; a training
                                checkpoint gives its EMA weights); --checkpoint FILE is the same
              --vae FILE        the autoencoder weights a latent model decodes with, for a model trained on
                                Stable Diffusion's VAE: diffusers' sd-vae-ft-mse safetensors (TAEF2 ships inside)
              --backend NAME    compute backend (see sisma info); default: the one in use
            """ + WeightFormat.USAGE + """
              --out DIR         where the PNGs go (made if missing; checked before any sampling)\
            """;
    /** Sheet tiles are scaled up (nearest) to at least this many pixels, so small models stay visible. */
    static final int MIN_TILE = 256;

    final int samples;
    final long seed;
    final int steps;
    final String sampler;
    final double cfg;
    /** A model file, or null for a bundled model ({@link #model}). */
    final Path checkpoint;
    /** The bundled model's name when {@link #checkpoint} is null, or null for the generator's default. */
    final String model;
    final String backend;
    /** Autoencoder weights for a latent model whose autoencoder does not ship inside sisma, or null. */
    final Path vae;
    /** The format the model keeps its Linear weights in, or null for the generator's default. */
    final WeightFormat weights;
    final Path out;

    FaceJob(Args a, CommandContext ctx) {
        samples = a.getInt("--samples", 4);
        seed = a.has("--seed") ? a.getLong("--seed", 0) : Math.floorMod(System.nanoTime(), 1_000_000L);
        // 0, null and NaN leave the choice to the model (its config's sampler, steps and guidance)
        steps = a.getInt("--steps", 0);
        sampler = a.get("--sampler", null);
        cfg = a.getDouble("--cfg", Double.NaN);
        if (a.has("--model") && a.has("--checkpoint")) {
            throw new dev.sisma.api.cli.UsageException("--model and --checkpoint name the same thing; give one");
        }
        String m = a.get("--model", a.get("--checkpoint", null));
        boolean bundled = m != null && !a.has("--checkpoint") && !m.endsWith(".safetensors") && !m.contains("/")
                && !java.nio.file.Files.exists(ctx.resolve(m));
        model = bundled ? m : null;
        checkpoint = m != null && !bundled ? ctx.resolve(m) : null;
        backend = a.get("--backend", null);
        vae = a.has("--vae") ? ctx.resolve(a.required("--vae")) : null;
        weights = WeightFormat.option(a.get(WeightFormat.OPTION, null));
        out = ctx.resolve(a.required("--out"));
        if (samples < 1 || samples > 256) {
            throw new dev.sisma.api.cli.UsageException("--samples must be 1..256, got " + samples);
        }
        if (a.has("--steps") && (steps < 1 || steps > 10_000)) {
            throw new dev.sisma.api.cli.UsageException("--steps must be 1..10000, got " + steps);
        }
        if (a.has("--cfg") && (!(cfg >= 0) || Double.isInfinite(cfg))) {
            throw new dev.sisma.api.cli.UsageException("--cfg must be a finite number >= 0, got " + cfg);
        }
    }

    /**
     * Reads a mask file (index, colour, or a part file of the per-part layout, which gives its whole
     * entry), refusing a bad one with one line that names the file; nothing is written.
     */
    static ImportedMask readMask(Path maskFile) {
        return MaskFiles.read(maskFile);
    }

    /** Checks the output folder (made if missing); call after the masks are read, before any model work. */
    void prepareOutput() {
        OutputFolder.prepare(out);
    }

    /** Generates the samples of one mask file and writes them with their sheet; returns the files written. */
    List<Path> run(Generator generator, Path maskFile, CommandContext ctx) throws IOException {
        return run(generator, maskFile, readMask(maskFile), ctx);
    }

    /** As {@link #run(Generator, Path, CommandContext)} with the mask already read from {@code maskFile}. */
    List<Path> run(Generator generator, Path maskFile, ImportedMask imported, CommandContext ctx) throws IOException {
        if (sampler != null && !generator.samplers().contains(sampler)) {
            throw new dev.sisma.api.cli.UsageException("unknown sampler '" + sampler + "'; available: " + generator.samplers());
        }
        if (imported.fromColour() && imported.farPixels() > 0) {
            ctx.err().printf("sisma: %s: %d pixels are far from every palette colour; mapped to the nearest class%n",
                    maskFile, imported.farPixels());
        }
        Path modelFile = checkpoint;
        if (model != null) {
            modelFile = generator.model(model).orElseThrow(() -> new dev.sisma.api.cli.UsageException("--model: unknown model '"
                    + model + "'; bundled: " + String.join(", ", generator.models()) + ", or a checkpoint FILE (*.safetensors)"));
        }
        Mask mask = imported.mask();
        String name = MaskFiles.outputName(maskFile);
        ctx.err().printf("%s: %d sample(s), seed %d%s%s%s%s%n", name, samples, seed, sampler == null ? "" : ", " + sampler,
                steps == 0 ? "" : ", " + steps + " steps", Double.isNaN(cfg) ? "" : ", cfg " + cfg,
                weights == null ? "" : ", " + weights.id() + " weights");
        List<GeneratedImage> images = generator.generate(
                new GenerationRequest(mask, samples, seed, steps, sampler, cfg, modelFile, backend, vae, weights), progress(ctx.err()));
        List<Path> written = new java.util.ArrayList<>();
        for (GeneratedImage img : images) {
            Path file = out.resolve(name + "-s" + img.seed() + ".png");
            ImageFiles.writePng(toImage(img), file);
            written.add(file);
        }
        Path sheet = out.resolve(name + "-sheet.png");
        ImageFiles.writePng(sheet(mask, images), sheet);
        written.add(sheet);
        for (Path p : written) {
            ctx.out().println(p);
        }
        return written;
    }

    static BufferedImage toImage(GeneratedImage g) {
        BufferedImage img = new BufferedImage(g.width(), g.height(), BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, g.width(), g.height(), g.rgb(), 0, g.width());
        return img;
    }

    /** mask | sample 1 | sample 2 | ..., each tile the same size, scaled up nearest-neighbour. */
    static BufferedImage sheet(Mask mask, List<GeneratedImage> images) {
        int w = images.isEmpty() ? mask.width() : images.get(0).width();
        int h = images.isEmpty() ? mask.height() : images.get(0).height();
        int scale = Math.max(1, (MIN_TILE + h - 1) / h);
        int tw = w * scale;
        int th = h * scale;
        int gap = 4;
        BufferedImage sheet = new BufferedImage((tw + gap) * (images.size() + 1) - gap, th, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            g.setColor(java.awt.Color.WHITE);
            g.fillRect(0, 0, sheet.getWidth(), th);
            g.drawImage(MaskColours.render(mask), 0, 0, tw, th, null);
            for (int i = 0; i < images.size(); i++) {
                g.drawImage(toImage(images.get(i)), (tw + gap) * (i + 1), 0, tw, th, null);
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    /** "step 12/50  0.21 s/step  ETA 8 s": rewritten in place on a terminal, else one line per few seconds and the last. */
    static Progress progress(PrintStream err) {
        return progress(dev.sisma.api.cli.ProgressLine.forStderr(err));
    }

    static Progress progress(dev.sisma.api.cli.ProgressLine line) {
        return (done, total, sps) -> {
            boolean last = done == total;
            if (line.due(last)) {
                line.print(String.format("  step %d/%d  %.3f s/step  ETA %.0f s", done, total, sps, sps * (total - done)), last);
            }
        };
    }
}
