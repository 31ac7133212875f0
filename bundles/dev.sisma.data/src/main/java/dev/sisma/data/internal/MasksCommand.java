package dev.sisma.data.internal;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Sample;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.data.mask.ImportedMask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.data.synth.SyntheticFaces;

/**
 * {@code sisma masks}: synthetic masks, and checking, importing and rendering mask files.
 * {@code synth} writes {@code DIR/labels/NNNNN.png} (class-index masks), {@code DIR/images/NNNNN.png}
 * and {@code DIR/colour/NNNNN.png}, so DIR is also a dataset in the merged layout.
 */
@Component(service = Command.class)
public final class MasksCommand implements Command {
    static final int MAX_SIZE = 4096;

    @Override
    public String name() {
        return "masks";
    }

    @Override
    public String summary() {
        return "make synthetic masks and faces; check, import (colour to index) and render mask files";
    }

    @Override
    public String usage() {
        return """
                usage: sisma masks synth --count N --out DIR [--seed S] [--size PX] [--no-images]
                       sisma masks check FILE...
                       sisma masks import MASK.png --out INDEX.png [--size PX]
                       sisma masks render MASK.png --out COLOUR.png
                  synth   writes N procedural faces: DIR/labels/NNNNN.png (class-index masks, 8-bit grey,
                          values 0..18), DIR/images/NNNNN.png (the rendered face) and DIR/colour/NNNNN.png
                          (the mask in the CelebAMask-HQ palette). Default seed 0, size 512. DIR can be
                          used as a dataset: sisma train --data DIR.
                  check   reads each mask (class-index or colour PNG) and prints its size and classes;
                          exit 2 on the first bad one.
                  import  converts a colour mask to a class-index PNG (nearest palette colour), reporting
                          pixels far from every palette colour; a part file <id>_<part>.png of the
                          CelebAMask-HQ per-part layout imports its whole entry (the parts merged);
                          --size resizes (nearest neighbour).
                  render  writes a mask in the CelebAMask-HQ display palette.""";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        if (args.isEmpty()) {
            throw new UsageException("missing sub-command (synth, check, import or render)");
        }
        String sub = args.get(0);
        List<String> rest = args.subList(1, args.size());
        return switch (sub) {
            case "synth" -> synth(rest, ctx);
            case "check" -> check(rest, ctx);
            case "import" -> importColour(rest, ctx);
            case "render" -> render(rest, ctx);
            default -> {
                String near = Args.nearest(sub, List.of("synth", "check", "import", "render"));
                throw new UsageException("unknown sub-command '" + sub + "'" + (near == null ? "" : " (did you mean " + near + "?)"));
            }
        };
    }

    private int synth(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, Set.of("--count", "--out", "--seed", "--size"), Set.of("--no-images"));
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + a.positional().get(0) + "'");
        }
        int count = a.getInt("--count", -1);
        if (count <= 0) {
            throw new UsageException(a.has("--count") ? "--count must be positive, got " + count : "missing required option --count");
        }
        int size = size(a, 512);
        long seed = a.getLong("--seed", 0);
        Path out = ctx.resolve(a.required("--out"));
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new InputException(out + ": exists and is not a directory");
        }
        boolean images = !a.has("--no-images");
        SyntheticFaces faces = new SyntheticFaces(seed);
        PrintStream o = ctx.out();
        long t0 = System.nanoTime();
        int digits = Math.max(5, Integer.toString(count - 1).length());
        for (int i = 0; i < count; i++) {
            String name = String.format("%0" + digits + "d.png", i);
            Mask mask;
            if (images) {
                Sample s = faces.sample(i, size);
                mask = s.mask();
                ImageFiles.writePng(Images.fromChw(s.image(), size, size), out.resolve("images").resolve(name));
            } else {
                mask = faces.mask(i, size);
            }
            MaskFiles.writeIndex(mask, out.resolve("labels").resolve(name));
            MaskFiles.writeColour(mask, out.resolve("colour").resolve(name));
            if (i + 1 == count || (i + 1) % Math.max(1, count / 20) == 0) {
                double secs = (System.nanoTime() - t0) / 1e9;
                o.printf("masks synth: %d/%d (%.1f s, %.0f ms each)%n", i + 1, count, secs, secs * 1000 / (i + 1));
            }
        }
        o.printf("wrote %d synthetic faces (seed %d, %dx%d) to %s: labels/ (class-index masks), %scolour/ (previews)%n",
                count, seed, size, size, out, images ? "images/, " : "");
        return 0;
    }

    private int check(List<String> argv, CommandContext ctx) {
        Args a = Args.parse(argv, Set.of(), Set.of());
        if (a.positional().isEmpty()) {
            throw new UsageException("check needs at least one mask file");
        }
        for (String name : a.positional()) {
            Path f = ctx.resolve(name);
            ImportedMask m = MaskFiles.read(f);
            int[] hist = new int[FaceClass.COUNT];
            for (byte b : m.mask().copyOfClasses()) {
                hist[b]++;
            }
            StringBuilder classes = new StringBuilder();
            for (FaceClass c : FaceClass.values()) {
                if (hist[c.index()] > 0) {
                    classes.append(classes.isEmpty() ? "" : " ").append(c.partName());
                }
            }
            ctx.out().printf("%s: %dx%d %s mask, classes: %s%s%n", f, m.mask().width(), m.mask().height(),
                    m.fromColour() ? "colour" : "class-index", classes,
                    m.farPixels() > 0 ? "; " + m.farPixels() + " pixels far from every palette colour" : "");
        }
        return 0;
    }

    private int importColour(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, Set.of("--out", "--size"), Set.of());
        Path in = ctx.resolve(single(a, "import"));
        Path out = ctx.resolve(a.required("--out"));
        // Any mask file: a colour mask (nearest palette colour), a class-index mask, or a part file
        // of the per-part layout, which imports its whole entry.
        ImportedMask m = MaskFiles.read(in);
        Mask mask = a.has("--size") ? MaskFiles.fit(m.mask(), size(a, 512)) : m.mask();
        MaskFiles.writeIndex(mask, out);
        String from = MaskFiles.partEntry(in).map(e -> ", CelebAMask-HQ entry " + e.id() + " merged from its part files")
                .orElse(m.fromColour() ? ", from the colour mask" : "");
        ctx.out().printf("wrote %s (%dx%d class-index mask%s)%n", out, mask.width(), mask.height(), from);
        if (m.farPixels() > 0) {
            long total = (long) m.mask().width() * m.mask().height();
            ctx.err().printf("warning: %s: %d of %d pixels (%.1f%%) were far from every palette colour and took the nearest%n",
                    in, m.farPixels(), total, 100.0 * m.farPixels() / total);
        }
        return 0;
    }

    private int render(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, Set.of("--out"), Set.of());
        Path in = ctx.resolve(single(a, "render"));
        Path out = ctx.resolve(a.required("--out"));
        MaskFiles.writeColour(MaskFiles.read(in).mask(), out);
        ctx.out().println("wrote " + out);
        return 0;
    }

    private static String single(Args a, String sub) {
        if (a.positional().size() != 1) {
            throw new UsageException(sub + " needs exactly one mask file, got " + a.positional().size());
        }
        return a.positional().get(0);
    }

    private static int size(Args a, int fallback) {
        int size = a.getInt("--size", fallback);
        if (size < MaskFiles.MIN_SIZE || size > MAX_SIZE) {
            throw new UsageException("--size must be between " + MaskFiles.MIN_SIZE + " and " + MAX_SIZE + ", got " + size);
        }
        return size;
    }
}
