package org.example.sisma.hello;

import java.util.List;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.UsageException;

/** {@code sisma hello [--name NAME] [--times N]}: a sub-command contributed by a plugin bundle. */
@Component(service = Command.class)
public final class HelloCommand implements Command {
    @Override
    public String name() {
        return "hello";
    }

    @Override
    public String summary() {
        return "say hello (an example plugin)";
    }

    @Override
    public String usage() {
        return "usage: sisma hello [--name NAME] [--times N]\n  Prints 'hello NAME' N times (default: world, once).";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) {
        Args a = Args.parse(args, Set.of("--name", "--times"), Set.of());
        int times = a.getInt("--times", 1);
        if (times < 1) {
            throw new UsageException("--times must be at least 1, got " + times);
        }
        for (int i = 0; i < times; i++) {
            ctx.out().println("hello " + a.get("--name", "world"));
        }
        return 0;
    }
}
