package dev.sisma.ui.swt.internal.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.PrintStream;
import java.lang.reflect.Method;
import java.lang.reflect.Proxy;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import org.apache.felix.framework.FrameworkFactory;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

import dev.sisma.data.mask.MaskFiles;
import dev.sisma.ui.swt.internal.editor.SwtDisplay;

/**
 * {@code sisma edit} for real inside Apache Felix: SCR, the API and data bundles, the SWT host
 * bundle with its gtk fragment side by side, and this bundle (its built classes folder). The
 * command opens its window on its own thread and blocks until it closes; stopping the bundle
 * closes it. X display: see {@code SwtDisplay} (own Xvfb when DISPLAY is unset).
 */
class EditInFelixTest {
    @TempDir
    Path tmp;
    Framework framework;
    Bundle ui;
    Bundle api;

    @BeforeEach
    void boot() throws Exception {
        SwtDisplay.xServer();
        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, tmp.resolve("osgi").toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.put("felix.log.level", "1");
        framework = new FrameworkFactory().newFramework(props);
        framework.init();
        var ctx = framework.getBundleContext();
        List<Bundle> bundles = new ArrayList<>();
        for (String key : List.of("osgi.function", "osgi.promise", "osgi.component", "felix.scr", "sisma.api", "sisma.data",
                "swt.host", "swt.gtk")) {
            String path = System.getProperty(key);
            assertNotNull(path, "system property " + key + " (set by the pom)");
            // In a reactor build before packaging a module may resolve to its classes folder: install it in place.
            Path p = Path.of(path);
            bundles.add(ctx.installBundle((Files.isDirectory(p) ? "reference:" : "") + p.toUri()));
        }
        // This bundle from its classes folder (bnd wrote the manifest there); the test runs before packaging.
        ui = ctx.installBundle("reference:" + Path.of(System.getProperty("sisma.ui.classes")).toUri());
        bundles.add(ui);
        api = bundles.get(4);
        framework.start();
        for (Bundle b : bundles) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                b.start();
            }
        }
    }

    @AfterEach
    void stop() throws Exception {
        if (framework != null) {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    /**
     * The edit Command service, called through reflection: its types come from the container's class
     * loaders (getAll...: the test class path has its own copy of the API, which the framework would filter out).
     */
    Object editCommand() throws Exception {
        var ctx = framework.getBundleContext();
        long deadline = System.currentTimeMillis() + 10_000;
        while (System.currentTimeMillis() < deadline) {
            ServiceReference<?>[] refs = ctx.getAllServiceReferences("dev.sisma.api.cli.Command", null);
            if (refs != null) {
                for (ServiceReference<?> r : refs) {
                    Object c = ctx.getService(r);
                    if ("edit".equals(c.getClass().getMethod("name").invoke(c))) {
                        return c;
                    }
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError("no 'edit' command service within 10 s; ui.swt state " + ui.getState());
    }

    int run(Object command, String... args) throws Exception {
        Class<?> ctxType = api.loadClass("dev.sisma.api.cli.CommandContext");
        Object context = Proxy.newProxyInstance(ctxType.getClassLoader(), new Class<?>[] {ctxType}, (p, m, a) -> switch (m.getName()) {
            case "out", "err" -> new PrintStream(System.out);
            case "in" -> new ByteArrayInputStream(new byte[0]);
            case "workingDirectory" -> tmp;
            case "resolve" -> tmp.resolve((String) a[0]).normalize();
            default -> m.isDefault() ? java.lang.reflect.InvocationHandler.invokeDefault(p, m, a) : null;
        });
        Method run = command.getClass().getMethod("run", List.class, ctxType);
        try {
            return (Integer) run.invoke(command, List.of(args), context);
        } catch (java.lang.reflect.InvocationTargetException e) {
            throw (Exception) e.getCause();
        }
    }

    @Test
    void editOpensTheWindowOnItsOwnThreadBlocksUntilItClosesAndClosesWhenTheBundleStops() throws Exception {
        assertEquals(Bundle.ACTIVE, ui.getState());
        Path mask = tmp.resolve("face.png");
        MaskFiles.writeIndex(new dev.sisma.data.synth.SyntheticFaces(1).mask(0, 256), mask);
        Object edit = editCommand();
        long t0 = System.nanoTime();
        int rc = run(edit, "face.png", "--autosave-dir", "autosave", "--screenshot", "shot.png");
        assertEquals(0, rc);
        assertTrue((System.nanoTime() - t0) / 1e9 > 1.0, "blocked while the window was open");
        Path shot = tmp.resolve("shot.png");
        assertTrue(Files.size(shot) > 10_000, "a screenshot of the window");
        var img = dev.sisma.data.image.ImageFiles.read(shot);
        assertTrue(img.getWidth() >= 800 && img.getHeight() >= 600, img.getWidth() + "x" + img.getHeight());

        // Same framework (SWT's native library loads once per JVM): stopping the bundle closes an open window.
        AtomicReference<Object> result = new AtomicReference<>();
        Thread caller = new Thread(() -> {
            try {
                result.set(run(edit, "--autosave-dir", "autosave"));
            } catch (Exception e) {
                result.set(e);
            }
        });
        caller.start();
        Thread.sleep(2500);
        assertTrue(caller.isAlive(), "the command blocks while its window is open: " + result.get());
        ui.stop();
        caller.join(10_000);
        assertFalse(caller.isAlive(), "the command returned when the bundle stopped");
        assertEquals(0, result.get());
    }
}
