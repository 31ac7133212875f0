package dev.sisma.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;

/**
 * The {@code ./sisma} entry point inside the container: dispatches the command line to the
 * {@link Command} service of that name. Registered as a plain JDK {@code Function} so the launcher,
 * outside the framework, can call it without sharing any of our types.
 */
@Component(service = Function.class, property = "sisma.main=true")
public final class SismaCli implements Function<String[], Integer> {
    static final String SHELL_SUMMARY = "open the Gogo shell in the container (commands in the sisma: scope)";
    /** {@code shell} is the launcher's, not a command service: it starts the Gogo shell instead of this dispatcher. */
    static final String SHELL_USAGE = """
            usage: sisma shell
              Starts the container with the Gogo shell on the terminal. Every command is there in the
              sisma: scope (sisma:info, sisma:generate --mask FILE --out DIR, ...), beside Gogo's own
              (lb, help). exit (or Ctrl-D) stops the container and leaves the shell.""";

    private final Map<String, Command> commands = new ConcurrentSkipListMap<>();
    private final String version;
    private final PluginBundles plugins;

    @Activate
    public SismaCli(BundleContext context, @Reference PluginBundles plugins) {
        this(context.getBundle().getVersion().toString(), plugins);
    }

    SismaCli(String version) {
        this(version, new PluginBundles());
    }

    SismaCli(String version, PluginBundles plugins) {
        this.version = version;
        this.plugins = plugins;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addCommand(Command command) {
        commands.put(command.name(), command);
    }

    void removeCommand(Command command) {
        commands.remove(command.name(), command);
    }

    @Override
    public Integer apply(String[] argv) {
        return run(Arrays.asList(argv), context(System.out, System.err, System.in));
    }

    static CommandContext context(PrintStream out, PrintStream err, InputStream in) {
        Path cwd = Path.of(System.getProperty("sisma.cwd", System.getProperty("user.dir")));
        return new CommandContext() {
            @Override
            public PrintStream out() {
                return out;
            }

            @Override
            public PrintStream err() {
                return err;
            }

            @Override
            public InputStream in() {
                return in;
            }

            @Override
            public Path workingDirectory() {
                return cwd;
            }
        };
    }

    int run(List<String> argv, CommandContext ctx) {
        plugins.report(ctx.err());
        if (argv.isEmpty() || argv.get(0).equals("--help") || argv.get(0).equals("-h")) {
            ctx.out().print(overview());
            return 0;
        }
        String first = argv.get(0);
        if (first.equals("--version")) {
            ctx.out().println("sisma " + version + " (Java " + Runtime.version() + ")");
            return 0;
        }
        if (first.equals("help")) {
            if (argv.size() == 1) {
                ctx.out().print(overview());
                return 0;
            }
            if (argv.get(1).equals("shell")) {
                ctx.out().println(SHELL_USAGE);
                return 0;
            }
            return find(argv.get(1), ctx).map(c -> {
                ctx.out().println(c.usage());
                return 0;
            }).orElse(2);
        }
        if (first.startsWith("-")) {
            ctx.err().println("sisma: unknown option " + first
                    + Optional.ofNullable(Args.nearest(first, List.of("--help", "--version"))).map(n -> " (did you mean " + n + "?)").orElse(""));
            ctx.err().print(overview());
            return 2;
        }
        Optional<Command> command = find(first, ctx);
        if (command.isEmpty()) {
            return 2;
        }
        Command c = command.get();
        List<String> rest = argv.subList(1, argv.size());
        if (rest.contains("--help") || rest.contains("-h")) {
            ctx.out().println(c.usage());
            return 0;
        }
        try {
            return c.run(rest, ctx);
        } catch (UsageException e) {
            ctx.err().println("sisma " + c.name() + ": " + e.getMessage());
            ctx.err().println(c.usage());
            return 2;
        } catch (InputException e) {
            ctx.err().println("sisma " + c.name() + ": " + e.getMessage());
            debug(e, ctx);
            return 2;
        } catch (Exception | Error e) {
            ctx.err().println("sisma " + c.name() + ": failed: " + describe(e));
            debug(e, ctx);
            return 1;
        }
    }

    /** One line for a failure; a file system error says why, not only which path. */
    static String describe(Throwable e) {
        if (e instanceof java.nio.file.FileSystemException f) {
            return (f.getFile() == null ? "" : f.getFile() + ": ") + dev.sisma.data.image.ImageFiles.reason(f);
        }
        String m = e.getMessage() == null ? e.toString() : e.getMessage();
        return m.replaceAll("\\s*\\R\\s*", " ");
    }

    private static void debug(Throwable e, CommandContext ctx) {
        if (System.getenv("SISMA_DEBUG") != null) {
            e.printStackTrace(ctx.err());
        }
    }

    private Optional<Command> find(String name, CommandContext ctx) {
        Command c = commands.get(name);
        if (c != null) {
            return Optional.of(c);
        }
        String near = Args.nearest(name, commands.keySet());
        ctx.err().println("sisma: unknown command '" + name + "'" + (near == null ? "" : " (did you mean '" + near + "'?)"));
        if (near != null) {
            ctx.err().println(commands.get(near).usage());
        } else {
            ctx.err().print(overview());
        }
        return Optional.empty();
    }

    String overview() {
        StringBuilder sb = new StringBuilder();
        sb.append("sisma ").append(version).append(": semantic face synthesis with Mamba\n\n");
        sb.append("usage: sisma <command> [options]     sisma help <command>     sisma --version\n\ncommands:\n");
        int width = Math.max(5, commands.keySet().stream().mapToInt(String::length).max().orElse(5));
        for (Command c : commands.values()) {
            String plugin = plugins.pluginOf(c).map(p -> " [plugin " + p + "]").orElse("");
            sb.append(String.format("  %-" + width + "s  %s%s%n", c.name(), c.summary(), plugin));
        }
        sb.append(String.format("  %-" + width + "s  %s%n", "shell", SHELL_SUMMARY));
        return sb.toString();
    }
}
