package dev.sisma.eclipse.feature;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.jar.JarFile;
import java.util.jar.Manifest;
import java.util.stream.Stream;

import org.eclipse.core.runtime.adaptor.EclipseStarter;

/**
 * Runs an Eclipse application (a p2 publisher or the p2 director) on Equinox over a folder of bundle
 * jars, the way {@code eclipse -application ID} does, with a configuration area of its own:
 * {@code EquinoxApplication PLUGINS CONFIGURATION APPLICATION [ARGS...]}. The runtime bundles
 * (Equinox common, Felix SCR, the Eclipse runtime) and the bundles with the lazy activation policy are started.
 * Exits with the application's code (0 when it returns none).
 */
public final class EquinoxApplication {
    private EquinoxApplication() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 3) {
            System.err.println("usage: EquinoxApplication PLUGINS CONFIGURATION APPLICATION [ARGS...]");
            System.exit(2);
        }
        Object result = run(Path.of(args[0]), Path.of(args[1]), args[2], Arrays.copyOfRange(args, 3, args.length));
        System.exit(result instanceof Integer i ? i : 0);
    }

    /** Runs {@code application} with {@code args}; returns what it returns. */
    public static Object run(Path plugins, Path configuration, String application, String... args) throws Exception {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("osgi.bundles", bundles(plugins));
        p.put("osgi.bundles.defaultStartLevel", "4");
        p.put("osgi.install.area", plugins.getParent().toUri().toString());
        p.put("osgi.configuration.area", configuration.toUri().toString());
        p.put("osgi.instance.area", configuration.resolve("instance").toUri().toString());
        p.put("osgi.user.area", configuration.resolve("user").toUri().toString());
        p.put("eclipse.application", application);
        p.put("eclipse.consoleLog", "true");
        p.put("eclipse.ignoreApp", "false");
        p.put("osgi.noShutdown", "false");
        EclipseStarter.setInitialProperties(p);
        try {
            return EclipseStarter.run(args, null);
        } finally {
            if (EclipseStarter.isRunning()) {
                EclipseStarter.shutdown();
            }
        }
    }

    private static String bundles(Path plugins) throws IOException {
        try (Stream<Path> jars = Files.list(plugins)) {
            StringBuilder b = new StringBuilder();
            for (Path j : jars.filter(j -> j.getFileName().toString().endsWith(".jar")).sorted().toList()) {
                b.append(b.isEmpty() ? "" : ",").append("reference:").append(j.toUri()).append(start(j));
            }
            return b.toString();
        }
    }

    private static String start(Path jar) throws IOException {
        String name = jar.getFileName().toString();
        if (name.startsWith("org.eclipse.equinox.common") || name.startsWith("org.apache.felix.scr")) {
            return "@2:start";
        }
        if (name.startsWith("org.eclipse.core.runtime")) {
            return "@start";
        }
        // As in an Eclipse installation's bundles.info, bundles with the lazy activation policy are started:
        // they activate when their classes are first loaded, and Declarative Services only sees the
        // components (p2's framework manipulator, its transport) of bundles that are starting or active.
        try (JarFile j = new JarFile(jar.toFile())) {
            Manifest m = j.getManifest();
            if (m == null || m.getMainAttributes().getValue("Fragment-Host") != null) {
                return "";
            }
            String policy = m.getMainAttributes().getValue("Bundle-ActivationPolicy");
            return policy != null && policy.trim().startsWith("lazy") ? "@start" : "";
        }
    }
}
