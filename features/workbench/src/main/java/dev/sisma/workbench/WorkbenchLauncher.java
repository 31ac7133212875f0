package dev.sisma.workbench;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.eclipse.core.runtime.adaptor.EclipseStarter;

/**
 * {@code ./sisma workbench [MASK]}: starts Equinox over the bundles of the workbench folder
 * ({@code plugins/}: the Eclipse 4 workbench from Maven Central, Felix SCR and Config Admin, and the
 * same sisma bundles the headless runtime runs on Felix) and runs the sisma workbench application
 * (the sisma perspective with the Mask Editor view) on this thread. Returns when the workbench closes.
 */
public final class WorkbenchLauncher {
    /** The application and product the ui.swt bundle contributes (its plugin.xml). */
    public static final String APPLICATION = "dev.sisma.ui.swt.workbench";
    public static final String PRODUCT = "dev.sisma.ui.swt.product";
    /** Framework property: the mask the editor opens first (an absolute path), if any. */
    public static final String MASK_PROPERTY = "sisma.workbench.mask";

    private WorkbenchLauncher() {
    }

    public static void main(String[] args) throws Exception {
        String home = System.getProperty("sisma.workbench");
        if (home == null) {
            System.err.println("sisma: the workbench launcher needs -Dsisma.workbench=<workbench folder>; run ./sisma workbench instead");
            System.exit(1);
        }
        Path cwd = Path.of(System.getProperty("sisma.cwd", System.getProperty("user.dir")));
        Path mask = null;
        for (String a : args) {
            if (a.equals("--help") || a.equals("-h")) {
                System.out.println("""
                        usage: sisma workbench [MASK]
                          Opens the Eclipse workbench with the sisma perspective: the Mask Editor view (the editor of
                          sisma edit) with its Generate panel, the engine and the model in the same OSGi framework
                          (Equinox). MASK: a class-index or colour PNG, or a part file of a CelebAMask-HQ entry.
                          Window > Preferences > sisma sets the backend, the CPU threads and the checkpoint.
                          The workbench keeps its layout and preferences in $XDG_DATA_HOME/sisma/workbench
                          (default ~/.local/share/sisma/workbench).""");
                System.exit(0);
            } else if (a.startsWith("-")) {
                System.err.println("sisma workbench: unknown option " + a + " (usage: sisma workbench [MASK])");
                System.exit(2);
            } else if (mask != null) {
                System.err.println("sisma workbench: at most one MASK, got " + mask + " and " + a);
                System.exit(2);
            } else {
                mask = cwd.resolve(a).normalize();
                if (!Files.isRegularFile(mask)) {
                    System.err.println("sisma workbench: " + mask + ": no such mask file");
                    System.exit(2);
                }
            }
        }
        Path configuration = Files.createTempDirectory("sisma-workbench-");
        int code;
        try {
            Map<String, String> props = properties(Path.of(home), configuration, instanceArea(), mask);
            EclipseStarter.setInitialProperties(props);
            Object result = EclipseStarter.run(new String[0], null);
            code = result instanceof Integer i ? i : 0;
        } finally {
            deleteTree(configuration);
        }
        System.exit(code);
    }

    /** Where the workbench keeps its layout and preferences between runs. */
    static Path instanceArea() {
        String xdg = System.getenv("XDG_DATA_HOME");
        Path data = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".local", "share");
        return data.resolve("sisma").resolve("workbench");
    }

    /**
     * The framework properties that start the workbench over {@code home/plugins}: every bundle is
     * installed; the service runtime (SCR, Config Admin, Event Admin), the Eclipse runtime and the
     * sisma bundles are started, the rest start lazily as the workbench loads their classes.
     *
     * @param mask the mask the editor opens first, or null
     */
    public static Map<String, String> properties(Path home, Path configuration, Path instance, Path mask) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("osgi.bundles", bundles(home.resolve("plugins")));
        p.put("osgi.bundles.defaultStartLevel", "4");
        p.put("osgi.install.area", home.toUri().toString());
        p.put("osgi.configuration.area", configuration.toUri().toString());
        p.put("osgi.instance.area", instance.toUri().toString());
        p.put("osgi.user.area", instance.resolve("user").toUri().toString());
        p.put("eclipse.application", APPLICATION);
        p.put("eclipse.product", PRODUCT);
        p.put("eclipse.consoleLog", "true");
        p.put("eclipse.ignoreApp", "false");
        // The Vector API is an incubator module: bundles import jdk.incubator.vector from the system bundle.
        p.put("org.osgi.framework.system.packages.extra", "jdk.incubator.vector");
        // The workbench bundles require an SWT that can read SVG images (the org.eclipse.swt.svg fragment),
        // which is not published to Maven Central. Eclipse's own images load from PNG without it; the
        // framework declares the capability so that the workbench resolves.
        p.put("org.osgi.framework.system.capabilities.extra", "eclipse.swt;image.format=svg");
        if (mask != null) {
            p.put(MASK_PROPERTY, mask.toAbsolutePath().toString());
        }
        return p;
    }

    static String bundles(Path plugins) {
        List<String> entries = new ArrayList<>();
        for (Path jar : jars(plugins)) {
            Manifest m = manifest(jar);
            if (m == null) {
                continue;
            }
            String bsn = m.getMainAttributes().getValue("Bundle-SymbolicName");
            if (bsn == null) {
                continue;
            }
            bsn = bsn.split(";")[0].trim();
            if (bsn.equals("org.eclipse.osgi")) {
                continue;
            }
            boolean fragment = m.getMainAttributes().getValue("Fragment-Host") != null;
            entries.add("reference:" + jar.toUri() + (fragment ? "" : startLevel(bsn)));
        }
        return String.join(",", entries);
    }

    private static String startLevel(String bsn) {
        return switch (bsn) {
            case "org.apache.felix.scr" -> "@1:start";
            case "org.eclipse.equinox.common", "org.eclipse.equinox.event", "org.apache.felix.configadmin" -> "@2:start";
            case "org.eclipse.core.runtime" -> "@start";
            default -> bsn.startsWith("dev.sisma.") ? "@start" : "";
        };
    }

    private static List<Path> jars(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new IllegalStateException("no workbench bundles in " + dir + " (build it: mvn install)");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(f -> f.toString().endsWith(".jar")).sorted(Comparator.comparing(Path::toString)).toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir, e);
        }
    }

    private static Manifest manifest(Path jar) {
        try (JarFile f = new JarFile(jar.toFile())) {
            return f.getManifest();
        } catch (IOException e) {
            return null;
        }
    }

    private static void deleteTree(Path root) {
        try (Stream<Path> walk = Files.walk(root)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // A leftover temp folder is harmless.
        }
    }
}
