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
import dev.sisma.api.generate.Generator;

/** {@code sisma generate}: one mask in, faces out. */
@Component(service = Command.class)
public final class GenerateCommand implements Command {
    private volatile Generator generator;

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void setGenerator(Generator g) {
        generator = g;
    }

    void unsetGenerator(Generator g) {
        if (generator == g) {
            generator = null;
        }
    }

    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "paint faces that follow a mask (index or colour PNG)";
    }

    @Override
    public String usage() {
        return "usage: sisma generate --mask FILE --out DIR [options]\n"
                + "  Writes <mask>-s<seed>.png for each sample and <mask>-sheet.png (mask | samples).\n"
                + "  --mask FILE       class-index PNG (values 0..18) or colour PNG in the CelebAMask-HQ palette\n"
                + FaceJob.OPTIONS_USAGE;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Set<String> options = new HashSet<>(FaceJob.OPTIONS);
        options.add("--mask");
        Args a = Args.parse(args, options, Set.of());
        Path mask = ctx.resolve(a.required("--mask"));
        FaceJob job = new FaceJob(a, ctx);
        job.run(available(generator), mask, ctx);
        return 0;
    }

    static Generator available(Generator g) {
        if (g == null) {
            throw new IllegalStateException("no face generator is running (is the dev.sisma.model bundle started?)");
        }
        return g;
    }
}
