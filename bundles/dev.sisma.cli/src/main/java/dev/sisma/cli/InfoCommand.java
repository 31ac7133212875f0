package dev.sisma.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.Optional;

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

/** {@code sisma info}: the JVM, the Vector API width and the compute backends actually registered. */
@Component(service = Command.class)
public final class InfoCommand implements Command {
    private final Backends backends;
    private final List<UnavailableBackend> unavailable = new java.util.concurrent.CopyOnWriteArrayList<>();

    @org.osgi.service.component.annotations.Activate
    public InfoCommand(@Reference Backends backends) {
        this.backends = backends;
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addUnavailable(UnavailableBackend u) {
        unavailable.add(u);
    }

    void removeUnavailable(UnavailableBackend u) {
        unavailable.remove(u);
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
                + "  marking the one in use (configured by Config Admin PID " + Backends.PID + ", property preferred).";
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
        for (UnavailableBackend u : unavailable) {
            out.printf("    %-8s absent: %s%n", u.name(), u.reason());
        }
        String preferred = backends.preferred();
        if (preferred != null && backends.byName(preferred).isEmpty()) {
            out.printf("preferred backend '%s' is not registered; using %s%n", preferred,
                    current.map(Backend::name).orElse("none"));
        }
        out.println("(* = in use)");
        return 0;
    }
}
