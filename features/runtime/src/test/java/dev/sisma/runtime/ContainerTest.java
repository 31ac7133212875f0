package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Supplier;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

import dev.sisma.launcher.Launcher;
import dev.sisma.runtime.ContainerCli.Result;

/**
 * Starts the real runtime (the same bundle folder {@code ./sisma} runs) in this JVM and checks the
 * container: DS components come up, Config Admin changes take effect, and {@code info} follows
 * backend bundles being stopped and started. Our types are not shared with the test class path, so
 * the test talks to the container through the JDK-typed main function and service names.
 */
class ContainerTest {
    private static Framework framework;
    private static BundleContext context;
    private static Path storage;

    @BeforeAll
    static void start() throws Exception {
        storage = Files.createTempDirectory("sisma-it-");
        framework = new Launcher(Path.of(System.getProperty("sisma.runtime")), Map.of()).start(storage, false);
        context = framework.getBundleContext();
    }

    @AfterAll
    static void stop() throws Exception {
        framework.stop();
        framework.waitForStop(10_000);
    }

    @AfterEach
    void resetConfiguration() throws Exception {
        configure("dev.sisma.engine.backends", null);
        configure("dev.sisma.engine.cpu", null);
        for (Bundle b : context.getBundles()) {
            if (b.getState() == Bundle.RESOLVED && b.getHeaders().get(Constants.FRAGMENT_HOST) == null
                    && !b.getLocation().contains("/" + Launcher.ON_DEMAND + "/")
                    && !"org.apache.felix.gogo.shell".equals(b.getSymbolicName())) {
                b.start();
            }
        }
        // Config Admin delivers the deletes asynchronously and the CPU backend re-activates: wait for
        // it (back at its default thread count, so a late delete of a thread setting does not
        // re-activate it during the next test), so the next test starts from a settled container.
        String defaultThreads = "(?s).*cpu +" + Runtime.getRuntime().availableProcessors() + " threads?\\b.*";
        await(() -> sisma("info"), o -> o.contains("* cpu ") && !o.contains("preferred backend") && o.matches(defaultThreads));
    }

    @Test
    void everyBundleStartsAndTheComponentsComeUp() throws Exception {
        for (Bundle b : context.getBundles()) {
            // The Gogo shell starts only for `sisma shell`: it would take over the terminal; the
            // bundles of bundle/on-demand (the HTTP server) are started by the command that needs them.
            boolean onDemand = b.getLocation().contains("/" + Launcher.ON_DEMAND + "/");
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null && !"org.apache.felix.gogo.shell".equals(b.getSymbolicName())) {
                if (onDemand) {
                    assertTrue(b.getState() != Bundle.ACTIVE, b.getSymbolicName() + " was started without the command that needs it");
                } else {
                    assertEquals(Bundle.ACTIVE, b.getState(), b.getSymbolicName() + " is not active");
                }
            }
        }
        // DS activates components on its own thread, and a configuration deleted by the previous
        // test's reset can still re-activate the CPU backend: wait for each service (CI saw the
        // CPU backend missing for a moment once)
        awaitService("dev.sisma.engine.Backends", null, "backend registry component");
        awaitService("dev.sisma.api.cli.Command", "(component.name=dev.sisma.cli.InfoCommand)", "info command component");
        awaitService("dev.sisma.engine.spi.Backend", "(sisma.backend.name=cpu)", "cpu backend");
        awaitService("dev.sisma.api.generate.Generator", null, "generator service");
    }

    private static void awaitService(String type, String filter, String what) throws Exception {
        for (int i = 0; i < 200 && context.getAllServiceReferences(type, filter) == null; i++) {
            Thread.sleep(50);
        }
        assertNotNull(context.getAllServiceReferences(type, filter), what + " is not registered after 10 s");
    }

    @Test
    void infoMarksTheCpuBackendInUse() throws InterruptedException {
        // polled: a previous test's configuration delete reaches the CPU backend's component
        // asynchronously and may re-activate it while this test starts (seen once in CI)
        Result r = await(() -> sisma("info"), o -> o.contains("* cpu "));
        assertEquals(0, r.code, r.err);
        assertTrue(r.out.matches("(?s).*\\n  \\* cpu .*"), r.out);
        assertTrue(r.out.contains("float lanes"), r.out);
    }

    @Test
    void infoFollowsTheCpuBundleBeingStoppedAndStarted() throws Exception {
        Bundle cpu = bundle("dev.sisma.engine.cpu");
        cpu.stop();
        Result stopped = sisma("info");
        assertFalse(stopped.out.contains("* cpu "), stopped.out);
        assertTrue(stopped.out.contains("    cpu      absent: bundle dev.sisma.engine.cpu is stopped"), stopped.out);
        cpu.start();
        Result started = sisma("info");
        assertTrue(started.out.contains("* cpu "), started.out);
    }

    /**
     * The CUDA bundle is in the runtime and says why it registers no backend; on a machine without
     * the NVIDIA driver (asked without JCuda: libcuda.so.1 through the FFM API) that is the driver.
     */
    @Test
    void infoListsCudaOrWhyItIsAbsent() {
        Result r = sisma("info");
        boolean driver;
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.SymbolLookup.libraryLookup("libcuda.so.1", a);
            driver = true;
        } catch (IllegalArgumentException e) {
            driver = false;
        }
        if (!driver) {
            assertTrue(r.out.contains("    cuda     absent: no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver\n"), r.out);
        } else {
            assertTrue(r.out.matches("(?s).*\\n  [ *] cuda +\\S.*") || r.out.contains("    cuda     absent: no CUDA device"), r.out);
        }
    }

    @Test
    void configAdminChoosesThePreferredBackend() throws Exception {
        configure("dev.sisma.engine.backends", Map.of("preferred", "nosuch"));
        Result r = await(() -> sisma("info"), o -> o.contains("preferred backend 'nosuch' is not registered"));
        assertTrue(r.out.contains("using cpu"), r.out);
        configure("dev.sisma.engine.backends", Map.of("preferred", "cpu"));
        Result back = await(() -> sisma("info"), o -> !o.contains("nosuch"));
        assertTrue(back.out.contains("* cpu "), back.out);
    }

    @Test
    void configAdminSetsTheCpuThreadCount() throws Exception {
        configure("dev.sisma.engine.cpu", Map.of("threads", 1));
        Result r = await(() -> sisma("info"), o -> o.matches("(?s).*cpu +1 thread\\b.*"));
        assertEquals(0, r.code);
    }

    @Test
    void unknownCommandsExitWithTwoAndSuggestTheNearest() {
        Result r = sisma("inf");
        assertEquals(2, r.code);
        assertTrue(r.err.contains("did you mean 'info'"), r.err);
        assertTrue(r.err.contains("usage: sisma info"), r.err);
        Result opt = sisma("info", "--bogus");
        assertEquals(2, opt.code);
        assertTrue(opt.err.startsWith("sisma info: unknown option --bogus"), opt.err);
    }


    /** Runs a command through the CLI bundle's main function, as the launcher does. */
    static Result sisma(String... args) {
        return ContainerCli.run(context, args);
    }

    /** Config Admin applies updates asynchronously: poll for the effect, failing after 10 s. */
    static Result await(Supplier<Result> run, java.util.function.Predicate<String> done) throws InterruptedException {
        Result last = null;
        for (int i = 0; i < 200; i++) {
            last = run.get();
            if (done.test(last.out)) {
                return last;
            }
            Thread.sleep(50);
        }
        throw new AssertionError("configuration did not take effect; last output:\n" + last.out);
    }

    static Bundle bundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        throw new AssertionError("bundle " + symbolicName + " is not installed");
    }

    /** Updates (or deletes, for null) a configuration through the container's ConfigurationAdmin, by reflection. */
    static void configure(String pid, Map<String, Object> properties) throws Exception {
        ServiceReference<?>[] refs = context.getAllServiceReferences("org.osgi.service.cm.ConfigurationAdmin", null);
        assertNotNull(refs, "Config Admin is not running");
        ServiceReference<?> ref = refs[0];
        Object admin = context.getService(ref);
        try {
            Class<?> adminType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
            Class<?> configType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
            Object config = adminType.getMethod("getConfiguration", String.class, String.class).invoke(admin, pid, "?");
            if (properties == null) {
                configType.getMethod("delete").invoke(config);
            } else {
                Method update = configType.getMethod("update", Dictionary.class);
                update.invoke(config, new Hashtable<>(properties));
            }
        } finally {
            context.ungetService(ref);
        }
    }
}
