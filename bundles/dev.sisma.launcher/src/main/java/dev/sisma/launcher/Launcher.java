package dev.sisma.launcher;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.function.Function;
import java.util.jar.JarFile;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.Filter;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;
import org.osgi.util.tracker.ServiceTracker;

/**
 * Boots an OSGi framework over the bundles of a runtime folder, hands the command line to the CLI
 * bundle's main service and exits with its exit code.
 *
 * <p>The CLI bundle registers a {@code java.util.function.Function<String[], Integer>} with the
 * property {@value #MAIN_PROPERTY}{@code =true}; only JDK types cross the framework boundary, so the
 * launcher needs no shared API. {@code sisma shell} instead starts the Gogo shell and waits for the
 * framework to stop.
 */
public final class Launcher {
    public static final String MAIN_PROPERTY = "sisma.main";
    /** The folder under {@code bundle/} whose bundles are installed but left for a command to start. */
    public static final String ON_DEMAND = "on-demand";
    /** System property: the default plugin folder ({@code ./sisma} passes the checkout's {@code plugins/}). */
    public static final String PLUGINS_PROPERTY = "sisma.plugins";
    /** The framework property FileInstall watches; {@code extraProperties} may override it. */
    public static final String PLUGIN_FOLDER = "felix.fileinstall.dir";
    private static final String SHELL_BUNDLE = "org.apache.felix.gogo.shell";
    private static final String FILEINSTALL_BUNDLE = "org.apache.felix.fileinstall";
    /** Framework property: the location prefix (a file URI) of the runtime's own bundles. */
    public static final String RUNTIME_BUNDLES = "sisma.runtime.bundles";

    private final Path runtime;
    private final Map<String, String> extraProperties;

    public Launcher(Path runtime, Map<String, String> extraProperties) {
        this.runtime = runtime;
        this.extraProperties = extraProperties;
    }

    public static void main(String[] args) {
        String home = System.getProperty("sisma.runtime");
        if (home == null) {
            System.err.println("sisma: the launcher needs -Dsisma.runtime=<runtime folder>; run ./sisma instead");
            System.exit(1);
        }
        quietLibraryLogging();
        System.exit(new Launcher(Path.of(home), Map.of()).run(args));
    }

    /**
     * The HTTP bundles and the service loader mediator log through java.util.logging, at INFO on
     * every start; only their warnings reach the terminal. A {@code java.util.logging.config.file}
     * the user gives wins.
     */
    static void quietLibraryLogging() {
        if (System.getProperty("java.util.logging.config.file") != null || System.getProperty("java.util.logging.config.class") != null) {
            return;
        }
        String config = "handlers=java.util.logging.ConsoleHandler\n.level=INFO\njava.util.logging.ConsoleHandler.level=ALL\n"
                + "org.apache.aries.spifly.level=WARNING\norg.eclipse.jetty.level=WARNING\norg.apache.felix.http.level=SEVERE\n";
        try {
            java.util.logging.LogManager.getLogManager().readConfiguration(
                    new java.io.ByteArrayInputStream(config.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1)));
        } catch (IOException e) {
            // Logging stays at the JDK's defaults.
        }
    }

    public int run(String[] argv) {
        String[] args = argv;
        Path plugins = pluginFolder();
        if (args.length > 0 && args[0].equals("--plugins")) {
            if (args.length < 2) {
                System.err.println("sisma: --plugins needs a folder");
                return 2;
            }
            plugins = Path.of(System.getProperty("sisma.cwd", System.getProperty("user.dir"))).resolve(args[1]).normalize();
            if (!Files.isDirectory(plugins)) {
                System.err.println("sisma: --plugins " + args[1] + ": no such folder");
                return 2;
            }
            args = java.util.Arrays.copyOfRange(args, 2, args.length);
        }
        boolean shell = args.length > 0 && args[0].equals("shell");
        Path storage;
        try {
            storage = Files.createTempDirectory("sisma-osgi-");
        } catch (IOException e) {
            System.err.println("sisma: cannot create the framework cache folder: " + e.getMessage());
            return 1;
        }
        Framework framework = null;
        try {
            framework = start(storage, shell, plugins);
            if (shell) {
                framework.waitForStop(0);
                return 0;
            }
            return callMain(framework.getBundleContext(), args);
        } catch (BundleException e) {
            System.err.println("sisma: the runtime did not start: " + e.getMessage());
            return 1;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return 130;
        } finally {
            stop(framework);
            deleteTree(storage);
        }
    }

    /** The plugin folder when none is given: {@value #PLUGINS_PROPERTY}, else {@code runtime/plugins}. */
    Path pluginFolder() {
        String p = System.getProperty(PLUGINS_PROPERTY);
        return p != null && !p.isBlank() ? Path.of(p) : runtime.resolve("plugins");
    }

    /** {@link #start(Path, boolean, Path)} with the default plugin folder. */
    public Framework start(Path storage, boolean withShell) throws BundleException {
        return start(storage, withShell, pluginFolder());
    }

    /**
     * Starts the framework with every bundle of {@code runtime/bundle}, then FileInstall over
     * {@code plugins}: the bundles there are installed and started before this returns (its first
     * scan runs at once), and bundles added, replaced or removed later are installed, updated or
     * uninstalled while the container runs. The Gogo shell only when asked.
     */
    public Framework start(Path storage, boolean withShell, Path plugins) throws BundleException {
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // The Vector API is an incubator module: bundles import jdk.incubator.vector from the system bundle.
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "jdk.incubator.vector");
        props.put("felix.log.level", "1");
        props.put("gosh.args", withShell ? "" : "--nointeractive");
        // The plugin folder (FileInstall): first scan at once, then a look every second; jars only.
        // FileInstall's own log goes to stdout with stack traces, so it is off: the CLI reports a
        // plugin that does not resolve or start in one line (Config Admin factory PID
        // org.apache.felix.fileinstall adds further folders).
        props.put(PLUGIN_FOLDER, plugins.toAbsolutePath().normalize().toString());
        props.put("felix.fileinstall.noInitialDelay", "true");
        props.put("felix.fileinstall.poll", "1000");
        props.put("felix.fileinstall.filter", ".*\\.jar");
        props.put("felix.fileinstall.log.level", "0");
        // What the runtime itself brings; every other bundle is a plugin to `sisma info`.
        props.put(RUNTIME_BUNDLES, runtime.resolve("bundle").toUri().toString());
        // The shell's login profile comes from gosh.home/etc/gosh_profile: ours (see goshHome).
        Path goshHome = storage.resolve("gosh");
        if (withShell) {
            props.put("gosh.home", goshHome.toString());
        }
        // The HTTP bundles open no port by default: `sisma serve` enables them through Config Admin
        // (PID org.apache.felix.http), so every other command runs without a listening socket.
        props.put("org.apache.felix.http.enable", "false");
        props.put("org.apache.felix.https.enable", "false");
        props.putAll(extraProperties);
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework framework = factory.newFramework(props);
        framework.init();
        if (withShell) {
            // After init: a first init cleans the storage folder.
            goshHome(goshHome);
        }
        BundleContext context = framework.getBundleContext();
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : bundleJars()) {
            installed.add(context.installBundle(jar.toUri().toString()));
        }
        // Installed, not started: the command that needs one starts it (serve starts the HTTP server).
        for (Path jar : bundleJars(runtime.resolve("bundle").resolve(ON_DEMAND))) {
            context.installBundle(jar.toUri().toString());
        }
        framework.start();
        // The service loader mediator, then the bundles that only provide services to it, start
        // first, so a library that looks its provider up as its first consumer starts (SLF4J as
        // the HTTP bundle starts) finds it.
        List<Bundle> ordered = new ArrayList<>(installed);
        ordered.sort(Comparator.comparingInt(Launcher::serviceLoaderRank));
        Bundle shell = null;
        Bundle fileInstall = null;
        for (Bundle b : ordered) {
            if (SHELL_BUNDLE.equals(b.getSymbolicName())) {
                shell = b;
            } else if (FILEINSTALL_BUNDLE.equals(b.getSymbolicName())) {
                fileInstall = b;
            } else if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                startQuietly(b);
            }
        }
        // Plugins come after every bundle of the runtime, so they resolve against all of it.
        if (fileInstall != null) {
            startQuietly(fileInstall);
        }
        // The shell reads the terminal as soon as it starts, so it comes last, once every command is there.
        if (withShell && shell != null) {
            startQuietly(shell);
        }
        return framework;
    }

    /**
     * Writes the Gogo login profile and its message of the day under {@code home}/etc. Gogo's default
     * profile adds System's methods as commands, so a bare {@code exit} found System.exit(int) and
     * failed to coerce no argument; ours defines {@code exit} (see the profile).
     */
    private static void goshHome(Path home) {
        Path etc = home.resolve("etc");
        try {
            Files.createDirectories(etc);
            for (String name : List.of("gosh_profile", "motd")) {
                try (var in = Launcher.class.getResourceAsStream(name)) {
                    if (in == null) {
                        throw new IOException("resource " + name + " missing from the launcher jar");
                    }
                    Files.copy(in, etc.resolve(name));
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the shell profile in " + etc, e);
        }
    }

    /** 0: the service loader mediator; 1: a provider that consumes nothing through it; 2: the rest. */
    private static int serviceLoaderRank(Bundle b) {
        String provided = String.valueOf(b.getHeaders().get(Constants.PROVIDE_CAPABILITY));
        String required = String.valueOf(b.getHeaders().get(Constants.REQUIRE_CAPABILITY));
        if (provided.contains("osgi.serviceloader.registrar")) {
            return 0;
        }
        return provided.contains("osgi.serviceloader") && !required.contains("osgi.serviceloader.processor") ? 1 : 2;
    }

    private static void startQuietly(Bundle b) {
        try {
            b.start();
        } catch (BundleException e) {
            // One broken bundle must not take the rest down; `sisma info` reports what is missing.
            System.err.println("sisma: bundle " + b.getSymbolicName() + " did not start: " + e.getMessage());
        }
    }

    List<Path> bundleJars() {
        return bundleJars(runtime.resolve("bundle"));
    }

    private static List<Path> bundleJars(Path dir) {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(p -> p.toString().endsWith(".jar")).filter(Launcher::isBundle)
                    .sorted(Comparator.comparing(Path::toString)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list the runtime bundles in " + dir, e);
        }
    }

    private static boolean isBundle(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            return f.getManifest() != null && f.getManifest().getMainAttributes().getValue("Bundle-SymbolicName") != null;
        } catch (IOException e) {
            return false;
        }
    }

    @SuppressWarnings("unchecked")
    private static int callMain(BundleContext context, String[] args) throws InterruptedException {
        Filter filter;
        try {
            filter = context.createFilter("(&(objectClass=java.util.function.Function)(" + MAIN_PROPERTY + "=true))");
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            throw new IllegalStateException(e);
        }
        ServiceTracker<Object, Object> tracker = new ServiceTracker<>(context, filter, null);
        tracker.open();
        try {
            Object main = tracker.waitForService(30_000);
            if (main == null) {
                System.err.println("sisma: the CLI bundle did not come up within 30 s");
                return 1;
            }
            Integer code = ((Function<String[], Integer>) main).apply(args);
            return code == null ? 0 : code;
        } finally {
            tracker.close();
        }
    }

    private static void stop(Framework framework) {
        if (framework == null) {
            return;
        }
        try {
            framework.stop();
            framework.waitForStop(10_000);
        } catch (BundleException | InterruptedException e) {
            // Exiting anyway; nothing to keep.
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            // A leftover temp folder is harmless.
        }
    }
}
