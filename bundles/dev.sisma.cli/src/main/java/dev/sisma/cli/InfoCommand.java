package dev.sisma.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;
import java.util.function.Function;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.UnavailableBackend;
import jdk.incubator.vector.FloatVector;

/**
 * {@code sisma info}: the JVM, the Vector API width and the compute backends: those registered,
 * and every backend module of the build that is not, with why (its {@link UnavailableBackend}
 * reason, or the state of its bundle, or that no such bundle is installed).
 */
@Component(service = Command.class)
public final class InfoCommand implements Command {
    /** A backend module of the build: the name it registers under and its bundle. */
    record KnownBackend(String name, String label, String bundle) {
    }

    /**
     * The backend modules of this build ({@code engine.cpu}, {@code engine.opencl}, {@code engine.cuda}).
     * Only names: whether each is there, and if not why, is read from the running container.
     */
    static final List<KnownBackend> KNOWN = List.of(
            new KnownBackend("cpu", "CPU", "dev.sisma.engine.cpu"),
            new KnownBackend("opencl", "OpenCL", "dev.sisma.engine.opencl"),
            new KnownBackend("cuda", "CUDA", "dev.sisma.engine.cuda"));

    private final Backends backends;
    /** Bundle symbolic name to its state in words ("active", "stopped", ...), or null when not installed. */
    private final Function<String, String> bundleState;
    private final List<UnavailableBackend> unavailable = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final PluginBundles plugins;

    @org.osgi.service.component.annotations.Activate
    public InfoCommand(BundleContext context, @Reference Backends backends, @Reference PluginBundles plugins) {
        this(backends, plugins, bsn -> {
            for (Bundle b : context.getBundles()) {
                if (bsn.equals(b.getSymbolicName())) {
                    return switch (b.getState()) {
                        case Bundle.ACTIVE -> "active";
                        case Bundle.RESOLVED -> "stopped";
                        case Bundle.INSTALLED -> "not resolved (a dependency is missing)";
                        case Bundle.STARTING -> "starting";
                        case Bundle.STOPPING -> "stopping";
                        default -> "uninstalled";
                    };
                }
            }
            return null;
        });
    }

    InfoCommand(Backends backends, Function<String, String> bundleState) {
        this(backends, new PluginBundles(), bundleState);
    }

    InfoCommand(Backends backends, PluginBundles plugins, Function<String, String> bundleState) {
        this.backends = backends;
        this.plugins = plugins;
        this.bundleState = bundleState;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addUnavailable(UnavailableBackend u) {
        unavailable.add(u);
    }

    void removeUnavailable(UnavailableBackend u) {
        unavailable.remove(u);
    }

    private String absence(KnownBackend k) {
        String state = bundleState.apply(k.bundle());
        if (state == null) {
            return "no " + k.label() + " backend bundle (" + k.bundle() + ") is installed";
        }
        if (state.equals("active")) {
            return "bundle " + k.bundle() + " is active but registers no backend";
        }
        return "bundle " + k.bundle() + " is " + state;
    }

    @Override
    public String name() {
        return "info";
    }

    @Override
    public String summary() {
        return "show the JVM, the Vector API width and the compute backends";
    }

    @Override
    public String usage() {
        return "usage: sisma info\n  Prints the JVM, the Vector API species width and every compute backend registered,\n"
                + "  marking the one in use (configured by Config Admin PID " + Backends.PID + ", property preferred),\n"
                + "  and each backend of the build that is absent (" + String.join(", ", KNOWN.stream().map(KnownBackend::name).toList())
                + "), with why;\n  then the plugin folder and each plugin bundle in it: what it contributes, or why it did not start.";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) {
        Args.parse(args, java.util.Set.of(), java.util.Set.of());
        PrintStream out = ctx.out();
        out.printf("jvm:      %s %s (%s), %d cores, max heap %d MiB%n", System.getProperty("java.vm.name"),
                Runtime.version(), System.getProperty("os.arch"), Runtime.getRuntime().availableProcessors(),
                Runtime.getRuntime().maxMemory() >> 20);
        out.printf("vector:   %d-bit preferred species, %d float lanes%n", FloatVector.SPECIES_PREFERRED.vectorBitSize(),
                FloatVector.SPECIES_PREFERRED.length());
        Optional<Backend> current = backends.current();
        List<Backend> all = backends.all();
        out.println("backends:");
        if (all.isEmpty()) {
            out.println("  (none registered)");
        }
        for (Backend b : all) {
            boolean inUse = current.isPresent() && current.get() == b;
            out.printf("  %s %-8s %s%n", inUse ? "*" : " ", b.name(), b.device());
        }
        Set<String> said = new HashSet<>();
        for (Backend b : all) {
            said.add(b.name().split(":")[0]);
        }
        for (UnavailableBackend u : unavailable) {
            out.printf("    %-8s absent: %s%n", u.name(), u.reason());
            said.add(u.name().split(":")[0]);
        }
        for (KnownBackend k : KNOWN) {
            if (!said.contains(k.name())) {
                out.printf("    %-8s absent: %s%n", k.name(), absence(k));
            }
        }
        String preferred = backends.preferred();
        if (preferred != null && backends.byName(preferred).isEmpty()) {
            out.printf("preferred backend '%s' is not registered; using %s%n", preferred,
                    current.map(Backend::name).orElse("none"));
        }
        out.println("(* = in use)");
        printPlugins(out);
        return 0;
    }

    /** The plugin folder and each plugin: file, bundle, and what it contributes or why it does not run. */
    private void printPlugins(PrintStream out) {
        String folder = plugins.folder();
        if (folder == null) {
            return;
        }
        List<PluginBundles.Plugin> all = plugins.plugins();
        out.printf("plugins:  %s%s%n", folder, all.isEmpty() ? " (none)" : "");
        for (PluginBundles.Plugin p : all) {
            String what = p.problem() != null ? "did not start: " + p.problem()
                    : p.contributions().isEmpty() ? "active, contributes no service" : String.join(", ", p.contributions());
            out.printf("  %s (%s %s): %s%n", p.file(), p.symbolicName(), p.version(), what);
        }
    }
}
