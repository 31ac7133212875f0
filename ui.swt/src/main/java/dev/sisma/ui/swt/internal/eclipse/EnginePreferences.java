package dev.sisma.ui.swt.internal.eclipse;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.Dictionary;
import java.util.Hashtable;

import org.eclipse.core.runtime.preferences.IEclipsePreferences;
import org.eclipse.core.runtime.preferences.InstanceScope;
import org.osgi.framework.BundleContext;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.Configuration;
import org.osgi.service.cm.ConfigurationAdmin;
import org.osgi.service.prefs.BackingStoreException;

import dev.sisma.engine.Backends;
import dev.sisma.engine.cpu.CpuBackend;

/**
 * The workbench's sisma preferences (Window > Preferences > sisma): the backend and the CPU threads
 * are the engine's Config Admin configurations ({@value Backends#PID} {@code preferred},
 * {@value CpuBackend#PID} {@code threads}), written there when the page is applied and kept in the
 * workbench's instance preferences as well, so that the workbench sets them again when it starts
 * (its framework configuration is new on every start). The model is an editor preference: the model
 * the Generate panel starts with.
 */
final class EnginePreferences {
    static final String NODE = "dev.sisma.ui.swt";
    static final String BACKEND = "backend";
    static final String THREADS = "threads";
    static final String MODEL = "model";

    private final BundleContext context;

    EnginePreferences(BundleContext context) {
        this.context = context;
    }

    private static IEclipsePreferences node() {
        return InstanceScope.INSTANCE.getNode(NODE);
    }

    /** The preferred backend's name; "" for the highest-ranking one. */
    static String backend() {
        return node().get(BACKEND, "");
    }

    /** CPU worker threads; 0 for all cores. */
    static int threads() {
        return node().getInt(THREADS, 0);
    }

    /** The model the Generate panel starts with; "" for the generator's first. */
    static String model() {
        return node().get(MODEL, "");
    }

    /** Stores the three preferences and writes the engine's two to Config Admin. */
    void store(String backend, int threads, String model) {
        if (threads < 0 || threads > 4096) {
            throw new IllegalArgumentException("CPU threads must be between 0 (all cores) and 4096, got " + threads);
        }
        IEclipsePreferences n = node();
        n.put(BACKEND, backend == null ? "" : backend.trim());
        n.putInt(THREADS, threads);
        n.put(MODEL, model == null ? "" : model.trim());
        try {
            n.flush();
        } catch (BackingStoreException e) {
            throw new IllegalStateException("the sisma preferences could not be saved: " + e.getMessage(), e);
        }
        configure();
    }

    /**
     * Writes the stored backend and threads to Config Admin (nothing when they were never set, so a
     * configuration made another way stays). False when there is no Config Admin in the framework.
     */
    boolean configure() {
        IEclipsePreferences n = node();
        if (n.get(BACKEND, null) == null && n.get(THREADS, null) == null) {
            return true;
        }
        ServiceReference<ConfigurationAdmin> ref = context.getServiceReference(ConfigurationAdmin.class);
        ConfigurationAdmin cm = ref == null ? null : context.getService(ref);
        if (cm == null) {
            return false;
        }
        try {
            set(cm, Backends.PID, "preferred", backend());
            set(cm, CpuBackend.PID, "threads", threads());
            return true;
        } catch (IOException e) {
            throw new UncheckedIOException("Config Admin did not take the sisma configuration: " + e.getMessage(), e);
        } finally {
            context.ungetService(ref);
        }
    }

    /** Sets one property of a configuration (any bundle may bind it), updating only when it changes. */
    private static void set(ConfigurationAdmin cm, String pid, String key, Object value) throws IOException {
        Configuration c = cm.getConfiguration(pid, "?");
        Dictionary<String, Object> props = c.getProperties();
        if (props == null) {
            props = new Hashtable<>();
        }
        if (value.equals(props.get(key))) {
            return;
        }
        props.put(key, value);
        c.update(props);
    }
}
