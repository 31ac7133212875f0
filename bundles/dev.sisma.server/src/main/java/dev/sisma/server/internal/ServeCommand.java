package dev.sisma.server.internal;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.launch.Framework;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.generate.WeightFormat;

/**
 * {@code sisma serve}: configures and starts the HTTP server (Felix HTTP Jetty, installed but not
 * started by the launcher), the job queue and the API (Config Admin PIDs {@code org.apache.felix.http}
 * and {@value JobQueue#PID}), then keeps the container up until SIGTERM or Ctrl-C, which stop the
 * framework cleanly: queued jobs and the one running stay on disk and run after the next start.
 */
@Component(service = Command.class)
public final class ServeCommand implements Command {
    static final String HTTP_PID = "org.apache.felix.http";

    private final BundleContext context;
    private final ConfigurationAdmin configAdmin;
    private final CountDownLatch stopped = new CountDownLatch(1);

    @Activate
    public ServeCommand(BundleContext context, @Reference ConfigurationAdmin configAdmin) {
        this.context = context;
        this.configAdmin = configAdmin;
    }

    @Deactivate
    void deactivate() {
        stopped.countDown();
    }

    @Override
    public String name() {
        return "serve";
    }

    @Override
    public String summary() {
        return "serve faces over HTTP: a JSON API, a job queue and a web page";
    }

    @Override
    public String usage() {
        return """
                usage: sisma serve [--port 8080] [--host 127.0.0.1] [--no-auth] [options]
                  Serves the API (docs/http-api.md) and the web page at http://HOST:PORT/ until SIGTERM or Ctrl-C.
                  --port N          TCP port (default 8080; 0 picks a free one)
                  --host ADDR       address to bind (default 127.0.0.1, loopback only)
                  --no-auth         no API token (only on a loopback address)
                  --state-dir DIR   API token and jobs (default ~/.config/sisma); queued jobs survive a restart
                  --queue N         queued jobs at most; more get 429 with Retry-After (default 32)
                  --max-upload N    largest mask upload in bytes (default 4194304)
                  --models DIR      further models: DIR/NAME.safetensors is model NAME (besides the bundled demo)
                  --data DIR        datasets jobs may take their mask from ({"dataset": "celebamask-hq:PATH", "index": 3},
                                    PATH inside DIR); without it only datasets without a folder (synthetic)
                  --cluster NAME    run the jobs on the workers of a sisma cluster (sisma worker --cluster NAME; docs/cluster.md);
                                    this server joins it as a member that holds no data and runs no job
                  --members LIST, --cluster-port N, --cluster-bind ADDR: the cluster's --members, --port and --bind
                  --cluster-jobs N  jobs handed to the cluster at once (default 16)
                """ + WeightFormat.USAGE + """
                usage: sisma serve --bench [--clients 8] [--jobs 8] [--steps 5] [--samples 1] [--queue N] [--weights F]
                  A load test: a server on a free loopback port (no token, a temporary state folder), N clients
                  sending M jobs each (synthetic masks, the demo model); prints throughput, latency p50/p95/p99
                  and the 429s, then stops. Figures are recorded in docs/benchmarks.md.""";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Args a = Args.parse(args, Set.of("--port", "--host", "--state-dir", "--queue", "--max-upload", "--models", "--data",
                "--clients", "--jobs", "--steps", "--samples", "--cluster", "--members", "--cluster-port", "--cluster-bind", "--cluster-jobs",
                WeightFormat.OPTION),
                Set.of("--no-auth", "--bench"));
        if (!a.positional().isEmpty()) {
            throw new UsageException("unexpected argument '" + a.positional().get(0) + "'");
        }
        boolean bench = a.has("--bench");
        LoadBench.Options load = null;
        if (bench) {
            for (String o : List.of("--port", "--host", "--no-auth", "--state-dir")) {
                if (a.has(o)) {
                    throw new UsageException(o + " is not for --bench (it serves on a free loopback port, without a token, from a temporary folder)");
                }
            }
            load = new LoadBench.Options(a.getInt("--clients", 8), a.getInt("--jobs", 8), a.getInt("--steps", 5), a.getInt("--samples", 1));
            if (load.clients() < 1 || load.clients() > 256 || load.jobs() < 1 || load.jobs() > 10_000 || load.steps() < 1 || load.steps() > 250
                    || load.samples() < 1 || load.samples() > 16) {
                throw new UsageException("--bench needs --clients 1..256, --jobs 1..10000, --steps 1..250, --samples 1..16");
            }
        } else {
            for (String o : List.of("--clients", "--jobs", "--steps", "--samples")) {
                if (a.has(o)) {
                    throw new UsageException(o + " is an option of sisma serve --bench");
                }
            }
        }
        int port = a.getInt("--port", bench ? 0 : 8080);
        if (port < 0 || port > 65535) {
            throw new UsageException("--port must be 0..65535, got " + port);
        }
        String host = a.get("--host", "127.0.0.1");
        InetAddress address;
        try {
            address = InetAddress.getByName(host);
        } catch (UnknownHostException e) {
            throw new UsageException("--host " + host + ": unknown host");
        }
        boolean auth = !a.has("--no-auth") && !bench;
        if (!auth && !address.isLoopbackAddress()) {
            throw new UsageException("--no-auth is allowed on a loopback address only (such as 127.0.0.1), not on " + host);
        }
        int queue = a.getInt("--queue", 32);
        if (queue < 1 || queue > 100_000) {
            throw new UsageException("--queue must be 1..100000, got " + queue);
        }
        long maxUpload = a.getLong("--max-upload", 4L << 20);
        if (maxUpload < 1024 || maxUpload > ApiServlet.MULTIPART_MAX) {
            throw new UsageException("--max-upload must be 1024.." + ApiServlet.MULTIPART_MAX + " bytes, got " + maxUpload);
        }
        Path stateDir = bench ? java.nio.file.Files.createTempDirectory("sisma-serve-bench-")
                : a.has("--state-dir") ? ctx.resolve(a.get("--state-dir", null))
                : Path.of(System.getProperty("user.home"), ".config", "sisma");
        String models = a.has("--models") ? ctx.resolve(a.get("--models", null)).toString() : "";
        String data = "";
        if (a.has("--data")) {
            Path d = ctx.resolve(a.get("--data", null));
            if (!java.nio.file.Files.isDirectory(d)) {
                throw new UsageException("--data " + a.get("--data", null) + ": no such folder");
            }
            data = d.toRealPath().toString();
        }
        WeightFormat weights = WeightFormat.option(a.get(WeightFormat.OPTION, null));
        List<String> clusterArgs = clusterArgs(a);
        int clusterJobs = a.getInt("--cluster-jobs", 16);
        if (clusterJobs < 1 || clusterJobs > 1024) {
            throw new UsageException("--cluster-jobs must be 1..1024, got " + clusterJobs);
        }
        port = claim(address, port, host);

        String token = null;
        Token.Loaded t = null;
        if (auth) {
            t = Token.loadOrCreate(stateDir);
            token = t.value();
        }

        Hashtable<String, Object> server = new Hashtable<>();
        server.put("state.dir", stateDir.toString());
        server.put("auth", auth);
        server.put("queue.capacity", queue);
        server.put("max.upload.bytes", maxUpload);
        server.put("models.dir", models);
        server.put("data.dir", data);
        server.put("weights", weights == null ? "" : weights.id());
        if (clusterArgs != null) {
            // The queue hands its jobs to the cluster bundle's generator for this cluster, that many at once.
            Hashtable<String, Object> cluster = new Hashtable<>();
            cluster.put(CLUSTER_ARGS, clusterArgs.toArray(String[]::new));
            cluster.put(CLUSTER_PROPERTY, clusterArgs.get(1));
            update(CLUSTER_PID, cluster);
            server.put("generator.target", "(" + CLUSTER_PROPERTY + "=" + clusterArgs.get(1) + ")");
            server.put("worker.slots", clusterJobs);
        }
        update(JobQueue.PID, server);
        Hashtable<String, Object> http = new Hashtable<>();
        http.put("org.apache.felix.http.enable", true);
        http.put("org.apache.felix.https.enable", false);
        http.put("org.osgi.service.http.port", port);
        http.put("org.apache.felix.http.host", address.getHostAddress());
        http.put("org.apache.felix.http.jetty.sendServerHeader", false);
        update(HTTP_PID, http);
        startOnDemandBundles(ctx);

        String base = "http://" + (address.getHostAddress().contains(":") ? "[" + address.getHostAddress() + "]" : address.getHostAddress())
                + ":" + port + "/";
        if (!waitForHealth(base, 30_000)) {
            ctx.err().println("sisma serve: the HTTP server did not come up on " + base + " within 30 s");
            return 1;
        }
        if (load != null) {
            ctx.out().println("sisma serve: listening on " + base + " for the load test");
            boolean allDone = new LoadBench(base, load).run(ctx.out());
            ctx.out().flush();
            deleteQuietly(stateDir);
            return allDone ? 0 : 1;
        }
        Thread hook = new Thread(this::stopFramework, "sisma-serve-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        ctx.out().println("sisma serve: listening on " + base + " (state in " + stateDir + "; Ctrl-C stops)");
        if (t != null && t.created()) {
            ctx.out().println("sisma serve: API token (shown once; kept in " + t.file() + "): " + token);
            ctx.out().println("sisma serve: the page with the token: " + base + "#token=" + token);
        } else if (t != null) {
            ctx.out().println("sisma serve: API token in " + t.file());
        } else {
            ctx.out().println("sisma serve: no API token (--no-auth)");
        }
        ctx.out().flush();
        try {
            stopped.await();
        } finally {
            try {
                Runtime.getRuntime().removeShutdownHook(hook);
            } catch (IllegalStateException e) {
                // The JVM is shutting down: the hook is stopping the framework.
            }
        }
        return 0;
    }

    /** The cluster bundle's generator (dev.sisma.cluster: RemoteGenerator), its service property and configuration property. */
    static final String CLUSTER_PID = "dev.sisma.cluster.generator";
    static final String CLUSTER_PROPERTY = "sisma.cluster";
    static final String CLUSTER_ARGS = "cluster.args";

    /** The cluster options as the cluster bundle reads them (it checks them), or null without --cluster. */
    private List<String> clusterArgs(Args a) {
        if (!a.has("--cluster")) {
            for (String o : List.of("--members", "--cluster-port", "--cluster-bind", "--cluster-jobs")) {
                if (a.has(o)) {
                    throw new UsageException(o + " is an option of serve --cluster NAME");
                }
            }
            return null;
        }
        if (a.has("--bench")) {
            throw new UsageException("--cluster is not for --bench");
        }
        boolean installed = false;
        for (Bundle b : context.getBundles()) {
            installed |= "dev.sisma.cluster".equals(b.getSymbolicName());
        }
        if (!installed) {
            throw new UsageException("--cluster needs the cluster bundle (dev.sisma.cluster), which is not installed");
        }
        String name = a.get("--cluster", null);
        if (!name.matches("[A-Za-z0-9._-]{1,64}")) {
            throw new UsageException("--cluster: a name of 1..64 letters, digits, '.', '_' or '-', got '" + name + "'");
        }
        List<String> c = new java.util.ArrayList<>(List.of("--cluster", name));
        for (String[] o : new String[][] {{"--members", "--members"}, {"--cluster-port", "--port"}, {"--cluster-bind", "--bind"}}) {
            if (a.has(o[0])) {
                c.addAll(List.of(o[1], a.get(o[0], null)));
            }
        }
        return c;
    }

    /** The load test's temporary state folder, removed afterwards as far as it can be. */
    private static void deleteQuietly(Path dir) {
        try (java.util.stream.Stream<Path> all = java.nio.file.Files.walk(dir)) {
            all.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    java.nio.file.Files.deleteIfExists(p);
                } catch (IOException e) {
                    // left behind in the temporary folder
                }
            });
        } catch (IOException e) {
            // left behind in the temporary folder
        }
    }

    /** The port, free now (a busy one is refused here, in one line); 0 picks a free one. */
    private static int claim(InetAddress address, int port, String host) throws IOException {
        try (ServerSocket s = new ServerSocket()) {
            s.setReuseAddress(true);
            s.bind(new InetSocketAddress(address, port));
            return s.getLocalPort();
        } catch (java.net.BindException e) {
            throw new UsageException("--port " + port + " on " + host + ": cannot listen there (" + e.getMessage() + ")");
        }
    }

    private void update(String pid, Dictionary<String, Object> props) throws IOException {
        Configuration c = configAdmin.getConfiguration(pid, "?");
        c.update(props);
    }

    /**
     * The bundles the launcher installed under bundle/on-demand (the HTTP server, SLF4J, SPI Fly),
     * started now: the service loader mediator first, then the bundles that only provide services
     * to it, then the rest, so SLF4J finds its provider when Jetty starts (the launcher orders
     * bundle/ by the same rule).
     */
    private void startOnDemandBundles(CommandContext ctx) {
        List<Bundle> bundles = new java.util.ArrayList<>();
        for (Bundle b : context.getBundles()) {
            // Hazelcast is on demand too, for the cluster commands, which start it themselves.
            if (b.getLocation().contains("/on-demand/") && b.getState() != Bundle.ACTIVE && !"com.hazelcast".equals(b.getSymbolicName())
                    && b.getHeaders().get(org.osgi.framework.Constants.FRAGMENT_HOST) == null) {
                bundles.add(b);
            }
        }
        bundles.sort(java.util.Comparator.comparingInt(ServeCommand::serviceLoaderRank));
        for (Bundle b : bundles) {
            try {
                b.start();
            } catch (BundleException e) {
                ctx.err().println("sisma serve: bundle " + b.getSymbolicName() + " did not start: " + e.getMessage());
            }
        }
    }

    /** 0: the service loader mediator; 1: a provider that consumes nothing through it; 2: the rest. */
    private static int serviceLoaderRank(Bundle b) {
        String provided = String.valueOf(b.getHeaders().get(org.osgi.framework.Constants.PROVIDE_CAPABILITY));
        String required = String.valueOf(b.getHeaders().get(org.osgi.framework.Constants.REQUIRE_CAPABILITY));
        if (provided.contains("osgi.serviceloader.registrar")) {
            return 0;
        }
        return provided.contains("osgi.serviceloader") && !required.contains("osgi.serviceloader.processor") ? 1 : 2;
    }

    private static boolean waitForHealth(String base, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(base + "api/health").toURL().openConnection();
                c.setConnectTimeout(1000);
                c.setReadTimeout(2000);
                int code = c.getResponseCode();
                c.disconnect();
                if (code == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not up yet
            }
            Thread.sleep(100);
        }
        return false;
    }

    /** SIGTERM or Ctrl-C: stop the framework (every component deactivates, the queue saves its jobs) and wait for it. */
    private void stopFramework() {
        try {
            Bundle system = context.getBundle(0);
            system.stop();
            if (system instanceof Framework f) {
                f.waitForStop(30_000);
            }
        } catch (BundleException | IllegalStateException e) {
            // Stopping already.
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
