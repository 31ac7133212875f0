package dev.sisma.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

class PluginBundlesTest {

    @Test
    void aMissingPackageIsNamedWithItsVersionRange() {
        String felix = "Unable to resolve example.broken [35](R 35.0): missing requirement [example.broken [35](R 35.0)]"
                + " osgi.wiring.package; (&(osgi.wiring.package=com.example.nowhere)(version>=1.0.0)(!(version>=2.0.0)))"
                + " Unresolved requirements: [[example.broken [35](R 35.0)] osgi.wiring.package; (osgi.wiring.package=com.example.nowhere)]";
        assertEquals("it imports package com.example.nowhere [1.0.0, 2.0.0), which no installed bundle exports",
                PluginBundles.oneLine(felix));
        assertEquals("it imports package a.b 1.2.0 or later, which no installed bundle exports", PluginBundles.oneLine(
                "Unable to resolve x [3](R 3.0): missing requirement [x [3](R 3.0)] osgi.wiring.package; (&(osgi.wiring.package=a.b)(version>=1.2.0))"));
    }

    @Test
    void otherMessagesBecomeOneLine() {
        assertEquals("Activator start error in bundle x [4]. caused by boom",
                PluginBundles.oneLine("Activator start error in bundle x [4].\n  caused by boom"));
        assertEquals("unknown reason", PluginBundles.oneLine(null));
    }

    @Test
    void outsideAContainerThereAreNoPlugins() {
        PluginBundles none = new PluginBundles();
        assertEquals(0, none.plugins().size());
        assertEquals(java.util.Optional.empty(), none.pluginOf(new Object()));
    }
}
