package dev.sisma.cli;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.Generator;
import dev.sisma.data.mask.MaskFiles;

/** {@code sisma sample}: every mask of a folder through one model. */
@Component(service = Command.class)
public final class SampleCommand extends GeneratorCommand {
    /** The other commands: {@code sample --cluster NAME} is {@code cluster sample} (the dev.sisma.cluster bundle). */
    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    private volatile List<Command> commands = List.of();

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
        return "usage: sisma sample --masks DIR --out DIR [--model demo-32|demo-256|FILE] [options]\n"
                + "  Runs generate for each *.png in DIR (sorted by name); part files <id>_<part>.png of the\n"
                + "  CelebAMask-HQ per-part layout count once per entry (its parts merged, outputs named <id>).\n"
                + "  Every mask is checked before the first is sampled.\n"
                + "  --masks DIR       folder of class-index, colour or CelebAMask-HQ part mask PNGs\n"
                + FaceJob.OPTIONS_USAGE + "\n"
                + "  --cluster NAME    spread the masks over the workers of a sisma cluster (sisma help cluster; docs/cluster.md)";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        if (args.contains("--cluster")) {
            Command cluster = commands.stream().filter(c -> c.name().equals("cluster")).findFirst().orElseThrow(() -> new UsageException(
                    "--cluster needs the cluster bundle (dev.sisma.cluster), which is not installed"));
            List<String> rest = new java.util.ArrayList<>(List.of("sample"));
            rest.addAll(args);
            return cluster.run(rest, ctx);
        }
        Set<String> options = new HashSet<>(FaceJob.OPTIONS);
        options.add("--masks");
        Args a = Args.parse(args, options, Set.of());
        Path dir = ctx.resolve(a.required("--masks"));
        FaceJob job = new FaceJob(a, ctx);
        List<Path> masks = MaskFiles.inFolder(dir);
        // Every input is checked before the model is touched: each mask, then the output folder.
        for (Path m : masks) {
            FaceJob.readMask(m);
        }
        job.prepareOutput();
        Generator g = generator();
        for (int i = 0; i < masks.size(); i++) {
            ctx.err().printf("[%d/%d] ", i + 1, masks.size());
            job.run(g, masks.get(i), ctx);
        }
        return 0;
    }

}
