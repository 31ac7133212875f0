package dev.sisma.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleEvent;
import org.osgi.framework.BundleException;
import org.osgi.framework.BundleListener;
import org.osgi.framework.Constants;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;

import dev.sisma.api.cli.Command;
import dev.sisma.data.dataset.DatasetProvider;
import dev.sisma.model.sampling.Sampler;

/**
 * The plugins: every bundle of the container that the runtime did not bring itself (those the plugin
 * folder's FileInstall installed, or someone in the shell). Says what each contributes (commands,
 * samplers, datasets, backends) for {@code --help} and {@code info}, and reports a plugin that does
 * not resolve or start in one line on stderr, once per installed version: before the next command
 * runs, and, in a container that keeps running (the shell), a moment after the plugin folder changed.
 */
@Component(service = PluginBundles.class)
public final class PluginBundles {
    /** The framework property the launcher sets: the location prefix of the runtime's own bundles. */
    static final String RUNTIME_BUNDLES = "sisma.runtime.bundles";
    /** The framework property FileInstall watches. */
    static final String PLUGIN_FOLDER = "felix.fileinstall.dir";
    /** How long after a plugin changed its state is judged (FileInstall starts it right after installing). */
    static final long SETTLE_MS = 2000;

    /** A plugin bundle: its file name, its contributions, and why it does not run (null when it does). */
    record Plugin(String file, String symbolicName, String version, List<String> contributions, String problem) {
    }

    private final BundleContext context;
    private final String runtimePrefix;
    private final Set<String> reported = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService settle;
    private final BundleListener listener;

    @Activate
    public PluginBundles(BundleContext context) {
        this.context = context;
        this.runtimePrefix = context.getProperty(RUNTIME_BUNDLES);
        this.settle = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sisma-plugin-report");
            t.setDaemon(true);
            return t;
        });
        this.listener = e -> {
            int type = e.getType();
            if ((type == BundleEvent.INSTALLED || type == BundleEvent.UPDATED) && isPlugin(e.getBundle())) {
                settle.schedule(() -> report(System.err), SETTLE_MS, TimeUnit.MILLISECONDS);
            }
        };
        context.addBundleListener(listener);
    }

    /** No container: no plugins (for unit tests of the commands). */
    PluginBundles() {
        this.context = null;
        this.runtimePrefix = null;
        this.settle = null;
        this.listener = null;
    }

    @Deactivate
    void deactivate() {
        context.removeBundleListener(listener);
        settle.shutdownNow();
    }

    /** The plugin folder the container watches, or null outside the runtime. */
    String folder() {
        return context == null ? null : context.getProperty(PLUGIN_FOLDER);
    }

    boolean isPlugin(Bundle b) {
        return runtimePrefix != null && b.getBundleId() != 0 && !b.getLocation().startsWith(runtimePrefix);
    }

    /** The plugin bundle that registered {@code service}, by symbolic name; empty for the runtime's own. */
    Optional<String> pluginOf(Object service) {
        Bundle b = FrameworkUtil.getBundle(service.getClass());
        return b != null && isPlugin(b) ? Optional.of(b.getSymbolicName()) : Optional.empty();
    }

    /** Every plugin, by file name. */
    List<Plugin> plugins() {
        if (context == null) {
            return List.of();
        }
        List<Plugin> all = new ArrayList<>();
        for (Bundle b : context.getBundles()) {
            if (isPlugin(b)) {
                all.add(new Plugin(fileName(b.getLocation()), b.getSymbolicName(), b.getVersion().toString(), contributions(b), problem(b)));
            }
        }
        all.sort(Comparator.comparing(Plugin::file));
        return all;
    }

    /** Prints each plugin that does not run, one line each, unless that version of it was reported already. */
    void report(PrintStream err) {
        if (context == null) {
            return;
        }
        for (Bundle b : context.getBundles()) {
            if (!isPlugin(b)) {
                continue;
            }
            String problem = problem(b);
            if (problem != null && reported.add(b.getBundleId() + "@" + b.getLastModified())) {
                err.println("sisma: plugin " + fileName(b.getLocation()) + " (" + b.getSymbolicName() + " " + b.getVersion()
                        + ") did not start: " + problem);
            }
        }
    }

    /** Why {@code b} does not run, in one line; null when it is active (or a resolved fragment). */
    static String problem(Bundle b) {
        boolean fragment = b.getHeaders().get(Constants.FRAGMENT_HOST) != null;
        return switch (b.getState()) {
            case Bundle.ACTIVE, Bundle.STARTING -> null;
            case Bundle.RESOLVED -> fragment ? null : "it is stopped";
            case Bundle.INSTALLED -> {
                if (fragment) {
                    yield "its host bundle is missing";
                }
                try {
                    // Resolving is what failed: starting it again gives the resolver's reason.
                    b.start(Bundle.START_TRANSIENT);
                    yield null;
                } catch (BundleException | IllegalStateException e) {
                    yield oneLine(e.getMessage());
                }
            }
            default -> null;
        };
    }

    private static final Pattern MISSING_PACKAGE = Pattern.compile(
            "missing requirement \\[.*?\\] osgi\\.wiring\\.package; \\(&\\(osgi\\.wiring\\.package=([^)]+)\\)(.*?)\\)(?: Unresolved|$)");
    private static final Pattern VERSION = Pattern.compile("\\(version>=([^)]+)\\)(?:\\(!\\(version>=([^)]+)\\)\\))?");

    /** The framework's resolver message, shortened to the requirement that is missing. */
    static String oneLine(String message) {
        String m = message == null ? "unknown reason" : message.replaceAll("\\s*\\R\\s*", " ").trim();
        Matcher p = MISSING_PACKAGE.matcher(m);
        if (p.find()) {
            Matcher v = VERSION.matcher(p.group(2));
            String range = !v.find() ? "" : v.group(2) == null ? " " + v.group(1) + " or later" : " [" + v.group(1) + ", " + v.group(2) + ")";
            return "it imports package " + p.group(1) + range + ", which no installed bundle exports";
        }
        int cut = m.indexOf(" Unresolved requirements:");
        return cut > 0 ? m.substring(0, cut) : m;
    }

    /** What {@code b} registers: {@code command NAME}, {@code sampler NAME}, {@code dataset NAME}, {@code backend NAME}, else the type. */
    private List<String> contributions(Bundle b) {
        ServiceReference<?>[] refs = b.getRegisteredServices();
        if (refs == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (ServiceReference<?> ref : refs) {
            Object backendName = ref.getProperty("sisma.backend.name");
            Object service = context.getService(ref);
            try {
                if (service instanceof Command c) {
                    out.add("command " + c.name());
                } else if (service instanceof Sampler s) {
                    out.add("sampler " + s.name());
                } else if (service instanceof DatasetProvider d) {
                    out.add("dataset " + d.name());
                } else if (backendName != null) {
                    out.add("backend " + backendName);
                } else {
                    for (String type : (String[]) ref.getProperty(Constants.OBJECTCLASS)) {
                        out.add(type.substring(type.lastIndexOf('.') + 1));
                    }
                }
            } finally {
                if (service != null) {
                    context.ungetService(ref);
                }
            }
        }
        out.sort(null);
        return out;
    }

    private static String fileName(String location) {
        String l = location.endsWith("/") ? location.substring(0, location.length() - 1) : location;
        return l.substring(l.lastIndexOf('/') + 1);
    }
}
