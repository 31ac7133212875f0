package dev.sisma.workbench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.InvocationTargetException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import java.util.jar.Attributes;
import java.util.jar.Manifest;

import org.eclipse.core.runtime.adaptor.EclipseStarter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;

import dev.sisma.engine.testkit.RuntimeRequirement;

/**
 * The real workbench, in this JVM, under the display the build runs with (Xvfb in ./run-tests): Equinox
 * over target/sisma-workbench/plugins with the same properties as ./sisma workbench, opening a copy of
 * examples/face-1.png. A driver (WorkbenchDriver, installed as a fragment of the editor bundle so it
 * sees the view) paints strokes with real mouse events, undoes them with Ctrl+Z and the Undo command,
 * saves, sets the CPU threads in Window > Preferences > sisma (Config Admin, then the CPU backend, follow),
 * and generates on the bundled demo model. Screenshots in target/workbench-test.
 */
class WorkbenchUiTest {
    @TempDir
    Path tmp;

    @Test
    @Timeout(420)
    void theWorkbenchOpensTheEditorPaintsUndoesSavesAndGenerates() throws Throwable {
        String display = System.getenv("DISPLAY");
        RuntimeRequirement.require(display != null && !display.isBlank(), "a display for the workbench (run under xvfb-run)");
        Path home = Path.of(System.getProperty("sisma.workbench"));
        Path out = Path.of(System.getProperty("sisma.test.out"));
        Path mask = tmp.resolve("face-1.png");
        Files.copy(Path.of(System.getProperty("sisma.repo"), "examples", "face-1.png"), mask, StandardCopyOption.REPLACE_EXISTING);

        Map<String, String> props = WorkbenchLauncher.properties(home, tmp.resolve("configuration"), tmp.resolve("instance"), mask);
        props.put("osgi.bundles", props.get("osgi.bundles") + ",reference:" + driverFragment().toUri());
        EclipseStarter.setInitialProperties(props);
        AtomicReference<Object> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread app = new Thread(() -> {
            try {
                result.set(EclipseStarter.run(new String[0], null));
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "workbench");
        app.start();
        try {
            Bundle editor = editorBundle();
            Class<?> driver = editor.loadClass("dev.sisma.ui.swt.internal.eclipse.WorkbenchDriver");
            String report;
            try {
                report = (String) driver.getMethod("run", Path.class, Path.class).invoke(null, out, mask);
            } catch (InvocationTargetException e) {
                throw e.getCause();
            }
            System.out.println(report);
            assertTrue(report.contains("2 samples"), report);
            app.join(60_000);
            if (failure.get() != null) {
                throw failure.get();
            }
            assertEquals(0, result.get(), "the workbench application's exit code");
            assertTrue(Files.size(out.resolve("workbench-generated.png")) > 10_000, "screenshot written");
        } finally {
            try {
                if (EclipseStarter.isRunning()) {
                    EclipseStarter.shutdown();
                }
            } catch (NullPointerException e) {
                // the application's thread stopped the framework meanwhile; keep the test's own failure
            }
        }
    }

    /** The ui.swt bundle once the framework is up. */
    private static Bundle editorBundle() throws InterruptedException {
        long end = System.currentTimeMillis() + 60_000;
        while (System.currentTimeMillis() < end) {
            BundleContext system = EclipseStarter.getSystemBundleContext();
            if (system != null) {
                for (Bundle b : system.getBundles()) {
                    if ("dev.sisma.ui.swt".equals(b.getSymbolicName()) && (b.getState() & (Bundle.RESOLVED | Bundle.STARTING | Bundle.ACTIVE)) != 0) {
                        return b;
                    }
                }
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the editor bundle dev.sisma.ui.swt did not resolve in the workbench within 60 s");
    }

    /** A fragment of dev.sisma.ui.swt holding the driver's classes (a folder bundle). */
    private Path driverFragment() throws Exception {
        Path dir = tmp.resolve("driver-fragment");
        Path pkg = Path.of("dev", "sisma", "ui", "swt", "internal", "eclipse");
        Path classes = Path.of(WorkbenchUiTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        Files.createDirectories(dir.resolve(pkg));
        try (var files = Files.list(classes.resolve(pkg))) {
            for (Path f : files.filter(p -> p.getFileName().toString().startsWith("WorkbenchDriver")).toList()) {
                Files.copy(f, dir.resolve(pkg).resolve(f.getFileName()));
            }
        }
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "dev.sisma.ui.swt.workbenchdriver");
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Fragment-Host", "dev.sisma.ui.swt");
        a.putValue("Import-Package", "org.eclipse.ui.handlers,org.eclipse.core.runtime.jobs,org.eclipse.core.commands,"
                + "org.eclipse.core.commands.common,org.eclipse.core.commands.operations,org.eclipse.ui.dialogs;ui.workbench=split,org.eclipse.jface.dialogs,org.eclipse.jface.window");
        Files.createDirectories(dir.resolve("META-INF"));
        try (var o = Files.newOutputStream(dir.resolve("META-INF/MANIFEST.MF"))) {
            m.write(o);
        }
        assertNotNull(dir);
        return dir;
    }
}
