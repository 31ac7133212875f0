package dev.sisma.workbench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.util.tracker.ServiceTracker;

import dev.sisma.launcher.Launcher;

/**
 * The headless bundles are framework-neutral: the runtime folder ./sisma starts on Felix
 * (features/runtime/target/sisma-runtime, the very same jars) started by the same launcher with
 * Equinox as the framework. Every bundle resolves and starts, the components come up (the generator,
 * the commands) and a command runs.
 */
class HeadlessOnEquinoxTest {
    @TempDir
    Path tmp;

    private static String services(BundleContext context) {
        try {
            List<String> names = new ArrayList<>();
            for (ServiceReference<?> r : context.getAllServiceReferences(null, null)) {
                names.add(java.util.Arrays.toString((String[]) r.getProperty("objectClass")) + "@" + r.getBundle().getSymbolicName());
            }
            return String.join(", ", names);
        } catch (org.osgi.framework.InvalidSyntaxException e) {
            return e.toString();
        }
    }

    @Test
    @Timeout(240)
    void theHeadlessRuntimeStartsOnEquinoxAndRunsCommands() throws Exception {
        Path runtime = Path.of(System.getProperty("sisma.runtime"));
        assertTrue(Files.isDirectory(runtime.resolve("bundle")), "no headless runtime at " + runtime + " (mvn install -pl features/runtime)");
        Files.createDirectories(tmp.resolve("plugins"));
        Launcher launcher = new Launcher(runtime, Map.of());
        Framework framework = launcher.start(tmp.resolve("storage"), false, tmp.resolve("plugins"));
        try {
            BundleContext context = framework.getBundleContext();
            assertEquals("org.eclipse.osgi", context.getBundle(0).getSymbolicName(), "the framework is Equinox");
            List<String> notActive = new ArrayList<>();
            for (Bundle b : context.getBundles()) {
                boolean fragment = b.getHeaders().get("Fragment-Host") != null;
                boolean onDemand = b.getLocation().contains("/" + Launcher.ON_DEMAND + "/")
                        // the launcher starts the interactive shell only for `sisma shell`
                        || "org.apache.felix.gogo.shell".equals(b.getSymbolicName());
                // a build folder that was not cleaned may hold an older copy of a singleton (two SWT versions)
                boolean olderCopy = java.util.Arrays.stream(context.getBundles()).anyMatch(o -> o != b
                        && o.getSymbolicName().equals(b.getSymbolicName()) && o.getState() == Bundle.ACTIVE);
                if (!fragment && !onDemand && !olderCopy && b.getState() != Bundle.ACTIVE) {
                    notActive.add(b.getSymbolicName() + " (state " + b.getState() + ")");
                }
            }
            assertTrue(notActive.isEmpty(), "bundles not active on Equinox: " + notActive);

            ServiceTracker<Object, Object> generators = new ServiceTracker<>(context, "dev.sisma.api.generate.Generator", null);
            generators.open(true); // all services: this class path has its own copy of the API classes
            assertNotNull(generators.waitForService(30_000), () -> "no Generator service (the model's DS component) on Equinox; services: " + services(context));
            generators.close();
            ServiceReference<?>[] commands = context.getAllServiceReferences("dev.sisma.api.cli.Command", null);
            assertNotNull(commands, "no sisma commands registered on Equinox");
            assertTrue(commands.length >= 5, "only " + commands.length + " commands registered");

            ServiceTracker<Object, Object> main = new ServiceTracker<>(context,
                    context.createFilter("(&(objectClass=java.util.function.Function)(" + Launcher.MAIN_PROPERTY + "=true))"), null);
            main.open();
            @SuppressWarnings("unchecked")
            Function<String[], Integer> cli = (Function<String[], Integer>) main.waitForService(30_000);
            assertNotNull(cli, "the CLI's main service did not come up on Equinox");
            PrintStream stdout = System.out;
            ByteArrayOutputStream captured = new ByteArrayOutputStream();
            int code;
            try {
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                code = cli.apply(new String[] {"info"});
            } finally {
                System.setOut(stdout);
            }
            main.close();
            String info = captured.toString(StandardCharsets.UTF_8);
            System.out.println(info);
            assertEquals(0, code, "sisma info on Equinox: " + info);
        } finally {
            framework.stop();
            framework.waitForStop(20_000);
        }
    }
}
