package dev.sisma.cli;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.data.mask.ImportedMask;

/** {@code sisma generate}: one mask in, faces out. */
@Component(service = Command.class)
public final class GenerateCommand extends GeneratorCommand {
    @Override
    public String name() {
        return "generate";
    }

    @Override
    public String summary() {
        return "paint faces that follow a mask (index, colour or CelebAMask-HQ part PNG)";
    }

    @Override
    public String usage() {
        return "usage: sisma generate --mask FILE --out DIR [options]\n"
                + "  Writes <mask>-s<seed>.png for each sample and <mask>-sheet.png (mask | samples).\n"
                + "  --mask FILE       class-index PNG (values 0..18), colour PNG in the CelebAMask-HQ palette, or a\n"
                + "                    part file <id>_<part>.png of CelebAMask-HQ-mask-anno (its whole entry, merged)\n"
                + FaceJob.OPTIONS_USAGE;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Set<String> options = new HashSet<>(FaceJob.OPTIONS);
        options.add("--mask");
        Args a = Args.parse(args, options, Set.of());
        Path mask = ctx.resolve(a.required("--mask"));
        FaceJob job = new FaceJob(a, ctx);
        // Every input is checked before the model is touched: the mask, then the output folder.
        ImportedMask imported = FaceJob.readMask(mask);
        job.prepareOutput();
        job.run(generator(), mask, imported, ctx);
        return 0;
    }

}
