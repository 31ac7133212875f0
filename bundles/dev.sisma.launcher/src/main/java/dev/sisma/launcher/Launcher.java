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
    private static final String SHELL_BUNDLE = "org.apache.felix.gogo.shell";

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
        System.exit(new Launcher(Path.of(home), Map.of()).run(args));
    }

    public int run(String[] args) {
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
            framework = start(storage, shell);
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

    /** Starts the framework with every bundle of {@code runtime/bundle}; the Gogo shell only when asked. */
    public Framework start(Path storage, boolean withShell) throws BundleException {
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, storage.toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        // The Vector API is an incubator module: bundles import jdk.incubator.vector from the system bundle.
        props.put(Constants.FRAMEWORK_SYSTEMPACKAGES_EXTRA, "jdk.incubator.vector");
        props.put("felix.log.level", "1");
        props.put("gosh.args", withShell ? "" : "--nointeractive");
        props.putAll(extraProperties);
        FrameworkFactory factory = ServiceLoader.load(FrameworkFactory.class).findFirst()
                .orElseThrow(() -> new IllegalStateException("no OSGi framework on the class path"));
        Framework framework = factory.newFramework(props);
        framework.init();
        BundleContext context = framework.getBundleContext();
        List<Bundle> installed = new ArrayList<>();
        for (Path jar : bundleJars()) {
            installed.add(context.installBundle(jar.toUri().toString()));
        }
        framework.start();
        Bundle shell = null;
        for (Bundle b : installed) {
            if (SHELL_BUNDLE.equals(b.getSymbolicName())) {
                shell = b;
            } else if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                startQuietly(b);
            }
        }
        // The shell reads the terminal as soon as it starts, so it comes last, once every command is there.
        if (withShell && shell != null) {
            startQuietly(shell);
        }
        return framework;
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
        Path dir = runtime.resolve("bundle");
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
