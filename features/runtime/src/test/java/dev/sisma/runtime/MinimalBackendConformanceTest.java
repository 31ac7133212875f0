package dev.sisma.runtime;

import java.net.URL;
import java.net.URLClassLoader;

import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.testkit.BackendConformanceTest;

/**
 * The example backend of {@code examples/plugins/minimal-backend}, loaded from the jar its own Maven
 * built ({@link ExamplePlugins}), passes the conformance suite through the SPI's composites.
 * (A class of its own rather than nested in {@link PluginFolderTest}: Surefire files the tests of an
 * outer class under its nested class's report, and the outer class then reports none.)
 */
class MinimalBackendConformanceTest extends BackendConformanceTest {
    @Override
    protected Backend backend() {
        try {
            URLClassLoader loader = new URLClassLoader(new URL[] {ExamplePlugins.jars().resolve("minimal-backend-1.0.0.jar").toUri().toURL()},
                    MinimalBackendConformanceTest.class.getClassLoader());
            return (Backend) loader.loadClass("org.example.sisma.minimal.MinimalBackend").getDeclaredConstructor().newInstance();
        } catch (Exception e) {
            throw new AssertionError("the minimal-backend example did not load", e);
        }
    }
}
