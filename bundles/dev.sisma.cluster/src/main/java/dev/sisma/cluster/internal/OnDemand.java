package dev.sisma.cluster.internal;

import java.util.logging.Level;
import java.util.logging.Logger;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;

import dev.sisma.api.cli.UsageException;

/**
 * Hazelcast is installed from {@code bundle/on-demand} but not started, so commands without
 * {@code --cluster} never load it; a cluster command starts it before its first Hazelcast class.
 */
final class OnDemand {
    static final String HAZELCAST = "com.hazelcast";

    private OnDemand() {
    }

    /**
     * Starts Hazelcast after quieting its logging to errors: the commands say themselves what a
     * user needs to know (members joining and leaving, jobs queued again). Returns the logger,
     * which the caller keeps: java.util.logging holds loggers weakly, and a collected one forgets
     * its level.
     */
    static Logger startHazelcast(BundleContext context) {
        Logger quiet = Logger.getLogger(HAZELCAST);
        quiet.setLevel(Level.SEVERE);
        for (Bundle b : context.getBundles()) {
            if (HAZELCAST.equals(b.getSymbolicName())) {
                if (b.getState() != Bundle.ACTIVE) {
                    try {
                        b.start();
                    } catch (BundleException e) {
                        throw new IllegalStateException("the Hazelcast bundle did not start: " + e.getMessage(), e);
                    }
                }
                return quiet;
            }
        }
        throw new UsageException("cluster mode needs the Hazelcast bundle (" + HAZELCAST + " in bundle/on-demand), which is not installed");
    }
}
