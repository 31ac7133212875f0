package dev.sisma.eclipse.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Help > Install New Software, headless: a plain Eclipse platform (the Eclipse bundles of the workbench,
 * from Maven Central, published as a p2 repository here) is installed into an empty folder with the p2
 * director application, then the sisma feature is installed into that installation from the repository
 * the build made (target/repository), the way the IDE's dialog does it. The sisma bundles must be in the
 * installed profile and in the installation's bundle list. Each p2 application runs on Equinox in a JVM
 * of its own ({@link EquinoxApplication}).
 */
class DirectorInstallTest {
    private static final List<String> SISMA = List.of("dev.sisma.ui.swt", "dev.sisma.api", "dev.sisma.engine",
            "dev.sisma.engine.cpu", "dev.sisma.data", "dev.sisma.autoencoder", "dev.sisma.model");

    @TempDir
    Path tmp;

    @Test
    @Timeout(300)
    void theFeatureInstallsIntoAPlainEclipsePlatform() throws Exception {
        Path tools = Path.of(System.getProperty("sisma.p2.tools"));
        Path site = Path.of(System.getProperty("sisma.p2.repository"));
        assertTrue(Files.isRegularFile(site.resolve("content.xml")), "the build made no p2 repository at " + site);
        Path workbench = Path.of(System.getProperty("sisma.workbench"), "plugins");
        assertTrue(Files.isDirectory(workbench), "build features/workbench first: no " + workbench);

        // the platform: the workbench's Eclipse bundles without sisma's, as a p2 repository
        Path platformBundles = tmp.resolve("platform-source/plugins");
        Files.createDirectories(platformBundles);
        try (Stream<Path> jars = Files.list(workbench)) {
            for (Path j : jars.filter(j -> !j.getFileName().toString().startsWith("dev.sisma.")
                    || j.getFileName().toString().startsWith("dev.sisma.workbench.batik")).toList()) {
                Files.copy(j, platformBundles.resolve(j.getFileName()));
            }
        }
        // the framework and the configurator that reads bundles.info, as an Eclipse installation has them
        Files.copy(tools.resolve("lib/org.eclipse.osgi.jar"), platformBundles.resolve("org.eclipse.osgi.jar"));
        try (Stream<Path> jars = Files.list(tools.resolve("plugins"))) {
            for (Path j : jars.filter(j -> j.getFileName().toString().startsWith("org.eclipse.equinox.simpleconfigurator-")).toList()) {
                Files.copy(j, platformBundles.resolve(j.getFileName()));
            }
        }
        Path platformRepo = tmp.resolve("platform-repo");
        p2(tools, "publish-platform", "org.eclipse.equinox.p2.publisher.FeaturesAndBundlesPublisher",
                "-source", tmp.resolve("platform-source").toString(),
                "-metadataRepository", platformRepo.toUri().toString(), "-artifactRepository", platformRepo.toUri().toString(),
                "-publishArtifacts", "-addJREIU");

        Path eclipse = tmp.resolve("eclipse");
        String profile = "SDKProfile";
        List<String> common = List.of("-destination", eclipse.toString(), "-profile", profile,
                "-bundlepool", eclipse.toString(), "-profileProperties", "org.eclipse.update.install.features=true",
                "-p2.os", "linux", "-p2.ws", "gtk", "-p2.arch", "x86_64", "-roaming");
        List<String> platform = new ArrayList<>(List.of("-repository", platformRepo.toUri().toString(),
                "-installIU", "a.jre.javase,org.eclipse.osgi,org.eclipse.equinox.simpleconfigurator,org.eclipse.ui,org.eclipse.equinox.event,org.apache.felix.scr,org.apache.felix.configadmin"));
        platform.addAll(common);
        p2(tools, "install-platform", "org.eclipse.equinox.p2.director", platform.toArray(String[]::new));

        List<String> feature = new ArrayList<>(List.of("-repository", site.toUri() + "," + platformRepo.toUri(),
                "-installIU", "dev.sisma.feature.feature.group"));
        feature.addAll(common);
        p2(tools, "install-feature", "org.eclipse.equinox.p2.director", feature.toArray(String[]::new));

        String roots = p2(tools, "list", "org.eclipse.equinox.p2.director", "-destination", eclipse.toString(),
                "-profile", profile, "-listInstalledRoots");
        assertTrue(roots.contains("dev.sisma.feature.feature.group"), "the feature is not a root of the profile:\n" + roots);
        Path bundlesInfo = eclipse.resolve("configuration/org.eclipse.equinox.simpleconfigurator/bundles.info");
        String info = Files.readString(bundlesInfo);
        for (String b : SISMA) {
            assertTrue(info.contains("\n" + b + ","), b + " is not in the installation's bundles.info:\n" + info);
            try (Stream<Path> jars = Files.list(eclipse.resolve("plugins"))) {
                assertTrue(jars.anyMatch(j -> j.getFileName().toString().startsWith(b + "_")), b + " is not in " + eclipse.resolve("plugins"));
            }
        }
    }

    /** Runs a p2 application in a JVM of its own; returns its output; fails on a non-zero exit. */
    private String p2(Path tools, String name, String application, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-cp", Path.of(EquinoxApplication.class.getProtectionDomain().getCodeSource().getLocation().getPath())
                        + java.io.File.pathSeparator + tools.resolve("lib/org.eclipse.osgi.jar"),
                EquinoxApplication.class.getName(), tools.resolve("plugins").toString(), tmp.resolve("configuration-" + name).toString(),
                application));
        cmd.addAll(List.of(args));
        Path log = tmp.resolve(name + ".log");
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile()).start();
        if (!p.waitFor(120, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError(name + ": the p2 application did not finish within 120 s:\n" + Files.readString(log));
        }
        String out = Files.readString(log);
        assertEquals(0, p.exitValue(), name + " failed:\n" + out);
        return out;
    }
}
