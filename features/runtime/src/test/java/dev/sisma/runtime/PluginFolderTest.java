package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.net.URI;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.Map;
import java.util.function.Predicate;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;

import dev.sisma.launcher.Launcher;
import dev.sisma.runtime.ContainerCli.Result;

/**
 * The example plugins of {@code examples/plugins} as a third party builds and uses them: each is
 * built by its own Maven ({@link ExamplePlugins}), dropped into the plugin folder of a running
 * container, used, replaced, and removed again. The example backend's conformance suite is
 * {@link MinimalBackendConformanceTest}.
 */
class PluginFolderTest {
    static Path plugins;
    static Path jars;
    static Framework framework;
    static BundleContext context;
    static Path storage;
    static volatile long lastBundleEvent = System.nanoTime();

    @BeforeAll
    static void buildExamplesAndStart(@TempDir Path tmp) throws Exception {
        jars = ExamplePlugins.jars();
        plugins = Files.createDirectories(tmp.resolve("plugins"));
        storage = Files.createDirectories(tmp.resolve("osgi"));
        framework = new Launcher(Path.of(System.getProperty("sisma.runtime")), Map.of("felix.fileinstall.poll", "200"))
                .start(storage, false, plugins);
        context = framework.getBundleContext();
        context.addBundleListener(e -> lastBundleEvent = System.nanoTime());
    }

    @AfterAll
    static void stop() throws Exception {
        if (framework != null) {
            framework.stop();
            framework.waitForStop(10_000);
        }
    }

    @Test
    void aCommandPluginComesGetsUpdatedAndGoes() throws Exception {
        Path jar = drop("hello-command-1.0.0.jar");
        Result help = await(() -> sisma("--help"), r -> r.out.contains("hello"));
        assertTrue(help.out.contains("say hello (an example plugin) [plugin dev.sisma.examples.hello-command]"), help.out);
        Result hello = sisma("hello", "--name", "plugin", "--times", "2");
        assertEquals(0, hello.code, hello.err);
        assertEquals("hello plugin\nhello plugin\n", hello.out);
        Result bad = sisma("hello", "--times", "0");
        assertEquals(2, bad.code);
        assertTrue(bad.err.startsWith("sisma hello: --times must be at least 1"), bad.err);
        Result info = sisma("info");
        assertTrue(info.out.contains("hello-command-1.0.0.jar (dev.sisma.examples.hello-command 1.0.0): command hello"), info.out);

        // A new build of the same file: FileInstall updates the installed bundle in place.
        Bundle before = bundle("dev.sisma.examples.hello-command");
        long modified = before.getLastModified();
        Path rebuilt = Files.createTempFile(storage, "hello", ".jar");
        Files.copy(jars.resolve("hello-command-1.0.0.jar"), rebuilt, StandardCopyOption.REPLACE_EXISTING);
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + rebuilt.toUri()), Map.of())) {
            Files.writeString(zip.getPath("rebuilt.txt"), "a second build");
        }
        Files.move(rebuilt, jar, StandardCopyOption.REPLACE_EXISTING);
        settle();
        awaitTrue(() -> before.getLastModified() != modified && before.getState() == Bundle.ACTIVE, "the bundle was not updated");
        assertEquals(before.getBundleId(), bundle("dev.sisma.examples.hello-command").getBundleId(), "updated, not reinstalled");
        assertNotNull(before.getEntry("rebuilt.txt"));
        assertEquals("hello plugin\n", await(() -> sisma("hello", "--name", "plugin"), r -> r.code == 0).out);

        remove(jar);
        Result gone = await(() -> sisma("--help"), r -> !r.out.contains("hello"));
        assertFalse(gone.out.contains("[plugin"), gone.out);
        assertEquals(2, sisma("hello").code);
        assertTrue(findBundle("dev.sisma.examples.hello-command") == null, "the bundle is uninstalled");
    }

    @Test
    void aSamplerPluginIsSelectableWithSampler(@TempDir Path out) throws Exception {
        Path jar = drop("midpoint-sampler-1.0.0.jar");
        await(() -> sisma("info"), r -> r.out.contains("sampler midpoint"));
        Path mask = Path.of(System.getProperty("sisma.examples")).resolve("face-1.png");
        Result r = sisma("generate", "--mask", mask.toString(), "--sampler", "midpoint", "--steps", "1", "--samples", "1",
                "--seed", "5", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertTrue((r.out + r.err).contains("midpoint"), r.out + r.err);
        assertEquals(32, ImageIO.read(out.resolve("face-1-s5.png").toFile()).getWidth());

        remove(jar);
        await(() -> sisma("info"), x -> !x.out.contains("sampler midpoint"));
        Result gone = sisma("generate", "--mask", mask.toString(), "--sampler", "midpoint", "--steps", "1", "--out", out.toString());
        assertEquals(2, gone.code);
        assertTrue(gone.err.contains("midpoint"), gone.err);
    }

    @Test
    void aBackendWithOnlyThePrimitivesGeneratesThroughTheComposites(@TempDir Path out) throws Exception {
        Path jar = drop("minimal-backend-1.0.0.jar");
        await(() -> sisma("info"), r -> r.out.contains("backend minimal"));
        Path mask = Path.of(System.getProperty("sisma.examples")).resolve("face-1.png");
        Result r = sisma("generate", "--mask", mask.toString(), "--backend", "minimal", "--steps", "1", "--samples", "1",
                "--seed", "5", "--out", out.toString());
        assertEquals(0, r.code, r.err);
        assertEquals(32, ImageIO.read(out.resolve("face-1-s5.png").toFile()).getWidth());

        remove(jar);
        await(() -> sisma("info"), x -> !x.out.contains("backend minimal"));
        Result gone = sisma("generate", "--mask", mask.toString(), "--backend", "minimal", "--steps", "1", "--out", out.toString());
        assertEquals(2, gone.code);
        assertTrue(gone.err.contains("minimal"), gone.err);
    }

    @Test
    void aDatasetPluginFeedsTraining(@TempDir Path tmp) throws Exception {
        Path data = Files.createDirectories(tmp.resolve("pairs"));
        for (int i = 0; i < 10; i++) {   // the tenth is the test split
            writePair(data, "face" + i, i);
        }
        Path jar = drop("pairs-dataset-1.0.0.jar");
        await(() -> sisma("info"), r -> r.out.contains("dataset pairs"));
        Path run = tmp.resolve("run");
        Result r = sisma("train", "--config", "demo", "--data", "pairs:" + data, "--out", run.toString(), "--steps", "1",
                "--batch", "2", "--sample-every", "0", "--checkpoint-minutes", "0");
        assertEquals(0, r.code, r.out + r.err);
        assertTrue(Files.size(run.resolve("checkpoint.safetensors")) > 0);

        remove(jar);
        await(() -> sisma("info"), x -> !x.out.contains("dataset pairs"));
        Result gone = sisma("train", "--config", "demo", "--data", "pairs:" + data, "--out", tmp.resolve("run2").toString(), "--steps", "1");
        assertEquals(2, gone.code, gone.err);
    }

    @Test
    void aBundleThatDoesNotResolveIsOneLineAndTheRestWorks() throws Exception {
        Path broken = plugins.resolve("broken.jar");
        Path tmpJar = Files.createTempFile(storage, "broken", ".jar");
        Files.delete(tmpJar);
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + tmpJar.toUri()), Map.of("create", "true"))) {
            Files.createDirectories(zip.getPath("META-INF"));
            Files.writeString(zip.getPath("META-INF/MANIFEST.MF"), """
                    Manifest-Version: 1.0
                    Bundle-ManifestVersion: 2
                    Bundle-SymbolicName: example.broken
                    Bundle-Version: 1.0.0
                    Import-Package: com.example.nowhere;version="[1.0,2)"
                    """);
        }
        Files.move(tmpJar, broken);
        settle();
        awaitTrue(() -> findBundle("example.broken") != null, "FileInstall did not install broken.jar");
        Path hello = drop("hello-command-1.0.0.jar");
        Result r = await(() -> sisma("hello"), x -> x.code == 0);
        assertEquals("hello world\n", r.out);
        Result info = sisma("info");
        assertEquals(0, info.code);
        assertTrue(info.out.contains("broken.jar (example.broken 1.0.0): did not start: it imports package com.example.nowhere [1.0.0, 2.0.0),"
                + " which no installed bundle exports"), info.out);
        // Reported once, in one line, before the command that first saw it (or by the folder watch).
        remove(broken);
        remove(hello);
        await(() -> sisma("info"), x -> !x.out.contains("broken.jar") && !x.out.contains("hello-command"));
    }

    @Test
    void aConfigAdminFactoryConfigurationWatchesOneMoreFolder(@TempDir Path more) throws Exception {
        try (AutoCloseable folder = fileInstallFolder(more)) {
            Path tmp = Files.createTempFile(storage, "drop", ".part");
            Files.copy(jars.resolve("hello-command-1.0.0.jar"), tmp, StandardCopyOption.REPLACE_EXISTING);
            Path jar = Files.move(tmp, more.resolve("hello-command-1.0.0.jar"), StandardCopyOption.ATOMIC_MOVE);
            settle();
            Result help = await(() -> sisma("--help"), r -> r.out.contains("hello"));
            assertTrue(help.out.contains("[plugin dev.sisma.examples.hello-command]"), help.out);
            assertEquals("hello world\n", sisma("hello").out);
            assertTrue(sisma("info").out.contains("hello-command-1.0.0.jar (dev.sisma.examples.hello-command 1.0.0): command hello"));

            remove(jar);
            await(() -> sisma("--help"), r -> !r.out.contains("hello"));
            assertTrue(findBundle("dev.sisma.examples.hello-command") == null, "the bundle is uninstalled");
        }
    }

    @Test
    void pluginsOptionNamesTheFolderOfOneRun(@TempDir Path dir) throws Exception {
        Files.copy(jars.resolve("hello-command-1.0.0.jar"), dir.resolve("hello-command-1.0.0.jar"));
        LauncherProcessTest.Run hello = LauncherProcessTest.launch("--plugins", dir.toString(), "hello", "--name", "folder");
        assertEquals(0, hello.code(), hello.err());
        assertEquals("hello folder\n", hello.out());
        LauncherProcessTest.Run help = LauncherProcessTest.launch("--plugins", dir.toString(), "--help");
        assertTrue(help.out().contains("[plugin dev.sisma.examples.hello-command]"), help.out());
        LauncherProcessTest.Run missing = LauncherProcessTest.launch("--plugins", dir.resolve("nowhere").toString(), "info");
        assertEquals(2, missing.code());
        // (the JVM's incubator warning comes first here: ./sisma filters it)
        assertTrue(missing.err().endsWith("\nsisma: --plugins " + dir.resolve("nowhere") + ": no such folder\n"), missing.err());
    }

    // --- helpers


    static Path drop(String name) throws Exception {
        // Copied under another name and renamed, so FileInstall never sees a half-written jar.
        Path tmp = Files.createTempFile(storage, "drop", ".part");
        Files.copy(jars.resolve(name), tmp, StandardCopyOption.REPLACE_EXISTING);
        Path jar = Files.move(tmp, plugins.resolve(name), StandardCopyOption.ATOMIC_MOVE);
        settle();
        return jar;
    }

    static void remove(Path jar) throws Exception {
        Files.delete(jar);
        settle();
    }

    /**
     * Waits until FileInstall has done its work: a bundle event came after the change and then a
     * second passed without one (it installs, starts and refreshes in steps; a service taken in the
     * middle may belong to a class loader the refresh throws away).
     */
    static void settle() throws InterruptedException {
        long changed = System.nanoTime();
        for (int i = 0; i < 300; i++) {
            long last = lastBundleEvent;
            if (last > changed && System.nanoTime() - last > 1_000_000_000L) {
                return;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the plugin folder did not settle within 30 s");
    }

    static void writePair(Path dir, String name, int seed) throws IOException {
        BufferedImage photo = new BufferedImage(32, 32, BufferedImage.TYPE_INT_RGB);
        BufferedImage mask = new BufferedImage(32, 32, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 32; y++) {
            for (int x = 0; x < 32; x++) {
                photo.setRGB(x, y, (x * 8 + seed) << 16 | (y * 8) << 8 | 128);
                mask.getRaster().setSample(x, y, 0, (x / 8 + y / 8 + seed) % 19);
            }
        }
        ImageIO.write(photo, "png", dir.resolve(name + ".png").toFile());
        ImageIO.write(mask, "png", dir.resolve(name + "_mask.png").toFile());
    }

    /**
     * One more folder for FileInstall, as a user adds it: a factory configuration of
     * {@code org.apache.felix.fileinstall} through the container's Config Admin (by reflection: its
     * classes are the container's); closing deletes the configuration.
     */
    static AutoCloseable fileInstallFolder(Path dir) throws Exception {
        // getAll: the framework's own context does not see Config Admin's package, so the plain lookup finds none
        ServiceReference<?>[] refs = context.getAllServiceReferences("org.osgi.service.cm.ConfigurationAdmin", null);
        assertNotNull(refs, "Config Admin is not running");
        ServiceReference<?> ref = refs[0];
        Object admin = context.getService(ref);
        Class<?> adminType = ref.getBundle().loadClass("org.osgi.service.cm.ConfigurationAdmin");
        Class<?> configType = ref.getBundle().loadClass("org.osgi.service.cm.Configuration");
        Object config = adminType.getMethod("createFactoryConfiguration", String.class, String.class)
                .invoke(admin, "org.apache.felix.fileinstall", "?");
        configType.getMethod("update", Dictionary.class).invoke(config, new Hashtable<>(Map.of(
                "felix.fileinstall.dir", dir.toString(), "felix.fileinstall.poll", "200",
                "felix.fileinstall.filter", ".*\\.jar", "felix.fileinstall.noInitialDelay", "true")));
        return () -> {
            try {
                configType.getMethod("delete").invoke(config);
            } finally {
                context.ungetService(ref);
            }
        };
    }

    static Bundle findBundle(String symbolicName) {
        for (Bundle b : context.getBundles()) {
            if (symbolicName.equals(b.getSymbolicName())) {
                return b;
            }
        }
        return null;
    }

    static Bundle bundle(String symbolicName) {
        Bundle b = findBundle(symbolicName);
        assertNotNull(b, "bundle " + symbolicName + " is not installed");
        return b;
    }

    /** Runs a command through the CLI bundle's main function, as the launcher does. */
    static Result sisma(String... args) {
        return ContainerCli.run(context, args);
    }

    /** FileInstall looks at the folder every 200 ms here: poll for the effect, failing after 20 s. */
    static Result await(java.util.function.Supplier<Result> run, Predicate<Result> done) throws InterruptedException {
        Result last = null;
        for (int i = 0; i < 200; i++) {
            last = run.get();
            if (done.test(last)) {
                return last;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("the plugin folder change did not take effect; last output:\n" + last.out + last.err);
    }

    static void awaitTrue(java.util.function.BooleanSupplier done, String what) throws InterruptedException {
        for (int i = 0; i < 200 && !done.getAsBoolean(); i++) {
            Thread.sleep(100);
        }
        assertTrue(done.getAsBoolean(), what);
    }
}
