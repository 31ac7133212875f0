package dev.sisma.eclipse.feature;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.jar.Attributes;
import java.util.jar.JarOutputStream;
import java.util.jar.Manifest;
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
        // An Eclipse installation has the org.eclipse.swt.svg fragment, which JFace requires (the capability
        // eclipse.swt;image.format=svg); it is not on Maven Central, so a bundle providing that capability
        // stands in for it (the workbench declares it on the system bundle for the same reason).
        svgCapability(platformBundles.resolve("platform.swt.svg.capability_1.0.0.jar"));
        Path platformRepo = tmp.resolve("platform-repo");
        p2(tools, "publish-platform", "org.eclipse.equinox.p2.publisher.FeaturesAndBundlesPublisher",
                "-source", tmp.resolve("platform-source").toString(),
                "-metadataRepository", platformRepo.toUri().toString(), "-artifactRepository", platformRepo.toUri().toString(),
                "-publishArtifacts");
        // An Eclipse product over those bundles, as an Eclipse download is one: its publishing adds the
        // configuration units that have p2 write each installed bundle into bundles.info (the default
        // units apply to every bundle, those of the sisma feature installed later too) and start the runtime.
        Path product = tmp.resolve("platform.product");
        Files.writeString(product, """
                <?xml version="1.0" encoding="UTF-8"?>
                <?pde version="3.5"?>
                <product name="Eclipse platform" uid="platform.product" version="1.0.0" useFeatures="false" includeLaunchers="false">
                  <plugins>
                    <plugin id="org.eclipse.osgi"/>
                    <plugin id="org.eclipse.equinox.simpleconfigurator"/>
                    <plugin id="platform.swt.svg.capability"/>
                    <plugin id="org.eclipse.ui"/>
                    <plugin id="org.eclipse.equinox.event"/>
                    <plugin id="org.apache.felix.scr"/>
                    <plugin id="org.apache.felix.configadmin"/>
                  </plugins>
                  <configurations>
                    <plugin id="org.eclipse.equinox.simpleconfigurator" autoStart="true" startLevel="1"/>
                    <plugin id="org.eclipse.equinox.common" autoStart="true" startLevel="2"/>
                    <plugin id="org.apache.felix.scr" autoStart="true" startLevel="2"/>
                    <plugin id="org.eclipse.equinox.event" autoStart="true" startLevel="2"/>
                    <plugin id="org.eclipse.core.runtime" autoStart="true" startLevel="0"/>
                  </configurations>
                </product>
                """);
        p2(tools, "publish-product", "org.eclipse.equinox.p2.publisher.ProductPublisher",
                "-productFile", product.toString(), "-configs", "gtk.linux.x86_64", "-flavor", "tooling",
                "-metadataRepository", platformRepo.toUri().toString(), "-artifactRepository", platformRepo.toUri().toString(),
                "-append");

        Path eclipse = tmp.resolve("eclipse");
        String profile = "SDKProfile";
        List<String> common = List.of("-destination", eclipse.toString(), "-profile", profile,
                "-bundlepool", eclipse.toString(), "-profileProperties", "org.eclipse.update.install.features=true",
                "-p2.os", "linux", "-p2.ws", "gtk", "-p2.arch", "x86_64", "-roaming", "-addJREIU");
        List<String> platform = new ArrayList<>(List.of("-repository", platformRepo.toUri().toString(),
                "-installIU", "platform.product"));
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

    /** A manifest-only bundle that provides {@code eclipse.swt;image.format=svg}. */
    private static void svgCapability(Path jar) throws IOException {
        Manifest m = new Manifest();
        Attributes a = m.getMainAttributes();
        a.put(Attributes.Name.MANIFEST_VERSION, "1.0");
        a.putValue("Bundle-ManifestVersion", "2");
        a.putValue("Bundle-SymbolicName", "platform.swt.svg.capability");
        a.putValue("Bundle-Version", "1.0.0");
        a.putValue("Bundle-Name", "SVG image support in SWT (stands in for org.eclipse.swt.svg)");
        a.putValue("Provide-Capability", "eclipse.swt;image.format=svg");
        try (JarOutputStream out = new JarOutputStream(Files.newOutputStream(jar), m)) {
            // the manifest is the whole bundle
        }
    }

    /** Runs a p2 application in a JVM of its own; returns its output; fails on a non-zero exit. */
    private String p2(Path tools, String name, String application, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--add-opens=java.base/jdk.internal.loader=ALL-UNNAMED",
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
