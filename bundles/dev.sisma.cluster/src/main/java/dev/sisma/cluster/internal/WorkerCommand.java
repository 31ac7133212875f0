package dev.sisma.cluster.internal;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

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
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.WeightFormat;

/**
 * {@code sisma worker --cluster NAME}: joins the cluster as a member that holds a share of its
 * queue and results (with backups) and runs jobs on this machine until SIGTERM or Ctrl-C, which
 * put a running job back in the queue and leave the cluster in order.
 */
@Component(service = Command.class)
public final class WorkerCommand implements Command {
    private final BundleContext context;
    /** Hazelcast's logger with the level set on it, kept while the command runs (and after). */
    private volatile java.util.logging.Logger logs;
    private volatile Generator generator;

    @Activate
    public WorkerCommand(BundleContext context) {
        this.context = context;
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
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
        return "worker";
    }

    @Override
    public String summary() {
        return "join a sisma cluster and run its jobs on this machine (docs/cluster.md)";
    }

    @Override
    public String usage() {
        return "usage: sisma worker --cluster NAME [--members HOST:PORT,...] [--port 5701] [--bind ADDR] [--backend NAME] [--weights F]\n"
                + "  Joins the cluster (Hazelcast, TCP/IP join), holds a share of its queued jobs and results, and runs\n"
                + "  jobs one at a time on this machine until SIGTERM or Ctrl-C (a running job goes back to the queue).\n"
                + "  --backend NAME    compute backend for the jobs (default: the one in use)\n"
                + WeightFormat.USAGE
                + "                    (a batch's own --weights, sisma sample --cluster, comes first)\n"
                + ClusterOptions.USAGE;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Set<String> options = new HashSet<>(ClusterOptions.OPTIONS);
        options.add("--backend");
        options.add(WeightFormat.OPTION);
        Args a = Args.parse(args, options, Set.of());
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + a.positional().get(0) + "'");
        }
        ClusterOptions cluster = ClusterOptions.from(a);
        WeightFormat weights = WeightFormat.option(a.get(WeightFormat.OPTION, null));
        Generator g = generator;
        if (g == null) {
            throw new IllegalStateException("no face generator is running (is the dev.sisma.model bundle started?)");
        }
        logs = OnDemand.startHazelcast(context);
        ClusterNode node = new ClusterNode(cluster, false, ctx.out());
        Worker worker = new Worker(node, g, a.get("--backend", null), weights, ctx.out());
        CountDownLatch finished = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            worker.stop();
            try {
                finished.await(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }, "sisma-worker-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ctx.out().printf("sisma worker: member %s of cluster '%s' (%d members), backend %s%s; waiting for work%n", node.address(),
                cluster.name(), node.hz.getCluster().getMembers().size(), a.get("--backend", "in use"),
                weights == null ? "" : ", " + weights.id() + " weights");
        ctx.out().flush();
        try {
            worker.run();
        } finally {
            node.close();
            ctx.out().printf("sisma worker: left cluster '%s' after %d job(s) done, %d failed%n", cluster.name(), worker.done, worker.failed);
            ctx.out().flush();
            finished.countDown();
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // the JVM is shutting down: the hook is waiting for this
            }
        }
        return 0;
    }
}
