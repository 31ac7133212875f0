package dev.sisma.cluster.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;

import com.hazelcast.cluster.Member;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.data.mask.ImportedMask;
import dev.sisma.data.mask.MaskFiles;

/**
 * {@code sisma cluster sample|status}: a batch over the cluster's workers ({@code sisma sample
 * --cluster NAME} runs {@code cluster sample}) and what a cluster is doing now.
 */
@Component(service = Command.class)
public final class ClusterCommand implements Command {
    private final BundleContext context;
    /** Hazelcast's logger with the level set on it, kept while the command runs (and after). */
    private volatile java.util.logging.Logger logs;

    @Activate
    public ClusterCommand(BundleContext context) {
        this.context = context;
    }

    @Override
    public String name() {
        return "cluster";
    }

    @Override
    public String summary() {
        return "a sisma cluster: its members and queue (status), a batch over its workers (sample)";
    }

    @Override
    public String usage() {
        return "usage: sisma cluster status --cluster NAME [--members HOST:PORT,...] [--port N] [--bind ADDR]\n"
                + "  The members (workers and others), the jobs queued and running, the member holding the queue.\n"
                + "usage: sisma cluster sample --masks DIR --out DIR --cluster NAME [options]   (also: sisma sample ... --cluster NAME)\n"
                + "  Every mask of DIR as one job for the cluster's workers; progress, then each worker's throughput.\n"
                + "  Outputs already in --out are not made again; every file is written to a temporary name and renamed.\n"
                + Batch.USAGE + ClusterOptions.USAGE;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        if (args.isEmpty() || !(args.get(0).equals("sample") || args.get(0).equals("status"))) {
            throw new UsageException("expected 'sample' or 'status'");
        }
        boolean sample = args.get(0).equals("sample");
        Set<String> options = new HashSet<>(ClusterOptions.OPTIONS);
        if (sample) {
            options.addAll(Batch.OPTIONS);
        }
        Args a = Args.parse(args.subList(1, args.size()), options, Set.of());
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + a.positional().get(0) + "'");
        }
        ClusterOptions cluster = ClusterOptions.from(a);
        return sample ? sample(a, cluster, ctx) : status(cluster, ctx);
    }

    private int sample(Args a, ClusterOptions cluster, CommandContext ctx) throws Exception {
        Path dir = ctx.resolve(a.required("--masks"));
        Path out = ctx.resolve(a.required("--out"));
        Map<String, String> options = Batch.jobOptions(a, ctx);
        // Every input is checked before the cluster is joined: each mask, then the output folder.
        List<Path> files = MaskFiles.inFolder(dir);
        Map<String, byte[]> jobs = new LinkedHashMap<>();
        Set<String> names = new HashSet<>();
        for (Path f : files) {
            ImportedMask m = MaskFiles.read(f);
            String name = MaskFiles.outputName(f);
            if (!names.add(name)) {
                throw new InputException(f + ": another mask of the folder has the output name '" + name + "'");
            }
            if (!Batch.outputs(out, name, options).stream().allMatch(Files::exists)) {
                jobs.put(name, Codec.png(MaskFiles.toIndexImage(m.mask())));
            }
        }
        try {
            Files.createDirectories(out);
        } catch (java.io.IOException e) {
            throw new InputException(out + ": cannot make the output folder: " + e.getMessage(), e);
        }
        if (!Files.isDirectory(out) || !Files.isWritable(out)) {
            throw new InputException(out + ": not a writable folder");
        }
        if (jobs.isEmpty()) {
            ctx.out().printf("sisma sample: all %d mask(s) of %s have their outputs in %s already%n", files.size(), dir, out);
            return 0;
        }
        if (jobs.size() < files.size()) {
            ctx.err().printf("sisma sample: %d of %d mask(s) have their outputs already; %d to do%n", files.size() - jobs.size(),
                    files.size(), jobs.size());
        }
        logs = OnDemand.startHazelcast(context);
        try (ClusterNode node = new ClusterNode(cluster, true, ctx.err())) {
            int failed = new Batch(node, ctx).run(jobs, options, out, files.size());
            return failed == 0 ? 0 : 1;
        }
    }

    private int status(ClusterOptions cluster, CommandContext ctx) {
        logs = OnDemand.startHazelcast(context);
        try (ClusterNode node = new ClusterNode(cluster, true, new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
            ctx.out().printf("cluster '%s': %d member(s)%n", cluster.name(), node.hz.getCluster().getMembers().size() - 1);
            for (Member m : node.hz.getCluster().getMembers()) {
                if (!m.localMember()) {
                    ctx.out().printf("  %s  %s%n", ClusterNode.address(m), m.isLiteMember() ? "coordinator (holds no data)" : "worker");
                }
            }
            if (node.workers().isEmpty()) {
                ctx.out().println("  no worker: nothing queued can run");
                return 0;
            }
            Map<String, Integer> c = node.counts();
            ctx.out().printf("jobs: %d queued, %d running; the queue is held by %s%n", c.get("queued"), c.get("running"), node.queueOwner());
        }
        return 0;
    }
}
