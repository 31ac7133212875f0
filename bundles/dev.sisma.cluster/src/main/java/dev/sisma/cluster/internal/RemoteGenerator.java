package dev.sisma.cluster.internal;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;

import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.SamplingDefaults;
import dev.sisma.data.mask.MaskFiles;

/**
 * A {@link Generator} whose work runs on a cluster's workers: {@code sisma serve --cluster NAME}
 * binds its job queue to this one (service property {@value #CLUSTER}), so each job the server
 * accepts becomes a cluster job that any worker with a free device takes; the job's sampler steps
 * come back as progress, its samples as the result. What a model is (names, samplers, defaults)
 * is answered by this machine's own generator, which has the same bundled models.
 *
 * <p>Configuration-required (PID {@value #PID}, written by {@code sisma serve --cluster}): the
 * property {@value #ARGS} holds the cluster options as on the command line.
 */
@Component(service = Generator.class, configurationPid = RemoteGenerator.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
public final class RemoteGenerator implements Generator {
    public static final String PID = "dev.sisma.cluster.generator";
    /** Service property: the cluster's name (a server selects this generator by it). */
    public static final String CLUSTER = "sisma.cluster";
    /** Configuration property: the cluster options ({@code --cluster NAME --members ...}). */
    public static final String ARGS = "cluster.args";
    private static final long POLL_MILLIS = 100;

    private final Generator local;
    /** Joining takes seconds: it runs beside the activation (which must not hold up the container), jobs wait for it. */
    private final java.util.concurrent.CompletableFuture<ClusterNode> node;
    /** Hazelcast's logger with its level, kept while the generator lives. */
    private volatile java.util.logging.Logger logs;

    @Activate
    public RemoteGenerator(BundleContext context, @Reference(target = "(!(" + CLUSTER + "=*))") Generator local, Map<String, Object> config) {
        this.local = local;
        Object a = config.get(ARGS);
        List<String> args = a instanceof String[] s ? List.of(s) : a instanceof List<?> l ? l.stream().map(String::valueOf).toList()
                : List.of(String.valueOf(a).split(" "));
        ClusterOptions options = ClusterOptions.from(Args.parse(args, ClusterOptions.OPTIONS, java.util.Set.of()));
        // Hazelcast's bundle is started there too, not here: a bundle started inside a component's
        // activation fires its service events into the activation under way.
        this.node = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            logs = OnDemand.startHazelcast(context);
            return new ClusterNode(options, true, System.err);
        }, r -> new Thread(r, "sisma-cluster-join").start());
    }

    @Deactivate
    void close() {
        node.thenAccept(ClusterNode::close);
    }

    private ClusterNode node() {
        try {
            return node.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CancellationException("interrupted");
        } catch (java.util.concurrent.ExecutionException e) {
            throw new IllegalStateException("this server did not join its cluster: " + e.getCause().getMessage(), e.getCause());
        }
    }

    @Override
    public List<String> samplers() {
        return local.samplers();
    }

    @Override
    public Optional<SamplingDefaults> defaults(Path checkpoint) {
        return local.defaults(checkpoint);
    }

    @Override
    public List<String> models() {
        return local.models();
    }

    @Override
    public Optional<Path> model(String name) {
        return local.model(name);
    }

    @Override
    public List<GeneratedImage> generate(GenerationRequest request, Progress progress) {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("samples", Integer.toString(request.samples()));
        o.put("seed", Long.toString(request.seed()));
        if (request.steps() > 0) {
            o.put("steps", Integer.toString(request.steps()));
        }
        o.put("sampler", request.sampler());
        if (!Double.isNaN(request.cfgScale())) {
            o.put("cfg", Double.toString(request.cfgScale()));
        }
        if (request.checkpoint() != null) {
            // A bundled model goes by its name: its file here is not a path on the workers.
            String bundled = local.models().stream().filter(n -> local.model(n).map(request.checkpoint()::equals).orElse(false))
                    .findFirst().orElse(null);
            o.put(bundled != null ? "model" : "checkpoint", bundled != null ? bundled : request.checkpoint().toString());
        }
        if (request.vae() != null) {
            o.put("vae", request.vae().toString());
        }
        if (request.weights() != null) {
            o.put("weights", request.weights().id());
        }
        // No backend: each worker runs on its own (the server's backends are not the workers').
        ClusterNode node = node();
        String batch = node.submit(o, Map.of("job", Codec.png(MaskFiles.toIndexImage(request.mask()))));
        String key = ClusterNode.key(batch, "job");
        try {
            String seen = null;
            while (true) {
                byte[] blob = node.results.get(key);
                if (blob != null) {
                    return images(Codec.result(blob));
                }
                if (progress.cancelled()) {
                    throw new CancellationException("cancelled");
                }
                String p = node.progress.get(key);
                if (p != null && !p.equals(seen)) {
                    seen = p;
                    String[] f = p.split(" ");
                    progress.step(Integer.parseInt(f[0]), Integer.parseInt(f[1]), Double.parseDouble(f[2]));
                }
                try {
                    Thread.sleep(POLL_MILLIS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new CancellationException("interrupted");
                }
            }
        } finally {
            node.forget(batch, List.of(key));
        }
    }

    private static List<GeneratedImage> images(Codec.Result r) {
        if (r.failed()) {
            throw new IllegalStateException(r.error() + " (on worker " + r.worker() + ")");
        }
        List<GeneratedImage> images = new ArrayList<>();
        for (int i = 0; i < r.pngs().size(); i++) {
            BufferedImage img = Codec.image(r.pngs().get(i));
            int[] rgb = img.getRGB(0, 0, img.getWidth(), img.getHeight(), null, 0, img.getWidth());
            for (int j = 0; j < rgb.length; j++) {
                rgb[j] &= 0xFFFFFF; // 0xRRGGBB, as the generator gives it
            }
            images.add(new GeneratedImage(r.seeds().get(i), img.getWidth(), img.getHeight(), rgb));
        }
        return images;
    }
}
