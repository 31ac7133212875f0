package dev.sisma.cli;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.Generator;

/** {@code sisma sample}: every mask of a folder through one checkpoint. */
@Component(service = Command.class)
public final class SampleCommand extends GeneratorCommand {
    @Override
    public String name() {
        return "sample";
    }

    @Override
    public String summary() {
        return "paint faces for every mask in a folder";
    }

    @Override
    public String usage() {
        return "usage: sisma sample --masks DIR --out DIR [--checkpoint FILE] [options]\n"
                + "  Runs generate for each *.png in DIR (sorted by name).\n"
                + "  --masks DIR       folder of class-index or colour mask PNGs\n"
                + FaceJob.OPTIONS_USAGE;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Set<String> options = new HashSet<>(FaceJob.OPTIONS);
        options.add("--masks");
        Args a = Args.parse(args, options, Set.of());
        Path dir = ctx.resolve(a.required("--masks"));
        FaceJob job = new FaceJob(a, ctx);
        Generator g = generator();
        List<Path> masks = masks(dir);
        for (int i = 0; i < masks.size(); i++) {
            ctx.err().printf("[%d/%d] ", i + 1, masks.size());
            job.run(g, masks.get(i), ctx);
        }
        return 0;
    }

    static List<Path> masks(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InputException(dir + ": not a folder");
        }
        try (Stream<Path> s = Files.list(dir)) {
            List<Path> masks = s.filter(p -> p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png"))
                    .sorted().toList();
            if (masks.isEmpty()) {
                throw new InputException(dir + ": no .png masks in this folder");
            }
            return masks;
        } catch (IOException e) {
            throw new InputException(dir + ": cannot list the folder: " + e.getMessage(), e);
        }
    }
}
