package dev.sisma.ui.swt.internal.eclipse;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;

import org.eclipse.jface.preference.PreferencePage;
import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.widgets.Combo;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Spinner;
import org.eclipse.ui.IWorkbench;
import org.eclipse.ui.IWorkbenchPreferencePage;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;

import dev.sisma.api.generate.Generator;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;

/**
 * Window > Preferences > sisma: the compute backend (the engine's preferred backend; "highest
 * ranking" leaves the choice to the services' rankings), the CPU backend's worker threads (0: all
 * cores) and the model the Mask Editor's Generate panel starts with. OK / Apply writes the first two
 * to Config Admin through {@link EnginePreferences}; the line below them shows the backend in use.
 */
public final class SismaPreferencePage extends PreferencePage implements IWorkbenchPreferencePage {
    public static final String ID = "dev.sisma.ui.swt.preferences";
    private static final String HIGHEST = "highest ranking";

    private BundleContext context;
    private Combo backend;
    private Spinner threads;
    private Combo model;
    private Label inUse;

    @Override
    public void init(IWorkbench workbench) {
        setDescription("The engine's backend and CPU threads (Config Admin), and the model Generate starts with.");
        var bundle = FrameworkUtil.getBundle(SismaPreferencePage.class);
        context = bundle == null ? null : bundle.getBundleContext();
    }

    @Override
    protected Control createContents(Composite parent) {
        Composite c = new Composite(parent, SWT.NONE);
        c.setLayout(new GridLayout(2, false));
        backend = combo(c, "Backend", "The compute backend generation runs on; 'highest ranking': the registered one ranked highest");
        threads = new Spinner(labelled(c, "CPU threads"), SWT.BORDER);
        threads.setValues(0, 0, 4096, 0, 1, 4);
        threads.setToolTipText("Worker threads of the CPU backend; 0: all cores (" + Runtime.getRuntime().availableProcessors() + " here)");
        threads.setLayoutData(new GridData(SWT.LEFT, SWT.CENTER, false, false));
        model = combo(c, "Model", "The model the Generate panel starts with");
        inUse = new Label(c, SWT.WRAP);
        inUse.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false, 2, 1));
        fill();
        return c;
    }

    private static Composite labelled(Composite c, String text) {
        new Label(c, SWT.NONE).setText(text);
        return c;
    }

    private static Combo combo(Composite c, String label, String tip) {
        Combo combo = new Combo(labelled(c, label), SWT.READ_ONLY);
        combo.setToolTipText(tip);
        combo.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        return combo;
    }

    /** The choices the running framework offers, with the stored preferences selected. */
    private void fill() {
        List<String> names = new ArrayList<>();
        names.add(HIGHEST);
        names.addAll(withService(Backends.class, b -> b.all().stream().map(Backend::name).distinct().toList(), List.of()));
        String stored = EnginePreferences.backend();
        if (!stored.isEmpty() && !names.contains(stored)) {
            names.add(stored); // kept even while that backend is not registered
        }
        backend.setItems(names.toArray(String[]::new));
        backend.select(stored.isEmpty() ? 0 : names.indexOf(stored));
        threads.setSelection(EnginePreferences.threads());
        List<String> models = withService(Generator.class, Generator::models, List.of());
        model.setItems(models.toArray(String[]::new));
        model.select(Math.max(0, models.indexOf(EnginePreferences.model())));
        model.setEnabled(!models.isEmpty());
        showInUse();
    }

    private void showInUse() {
        inUse.setText(withService(Backends.class,
                b -> b.current().map(be -> "In use: " + be.name() + " (" + be.device() + ")").orElse("In use: no backend registered"),
                "No engine in this framework: the settings apply once its bundles run."));
        inUse.getParent().layout(true);
    }

    /** {@code f} of the highest-ranking {@code type} service, or {@code absent} when there is none. */
    private <T, R> R withService(Class<T> type, Function<T, R> f, R absent) {
        ServiceReference<T> ref = context == null ? null : context.getServiceReference(type);
        T s = ref == null ? null : context.getService(ref);
        if (s == null) {
            return absent;
        }
        try {
            return f.apply(s);
        } finally {
            context.ungetService(ref);
        }
    }

    @Override
    public boolean performOk() {
        if (context == null) {
            setErrorMessage("the editor runs outside OSGi: there is no engine to configure");
            return false;
        }
        try {
            new EnginePreferences(context).store(HIGHEST.equals(backend.getText()) ? "" : backend.getText(),
                    threads.getSelection(), model.getText());
        } catch (RuntimeException e) {
            setErrorMessage(e.getMessage());
            return false;
        }
        setErrorMessage(null);
        return true;
    }

    @Override
    protected void performApply() {
        if (performOk()) {
            // Config Admin hands the configuration to the components asynchronously
            getShell().getDisplay().timerExec(1000, () -> {
                if (inUse != null && !inUse.isDisposed()) {
                    showInUse();
                }
            });
        }
    }

    @Override
    protected void performDefaults() {
        backend.select(0);
        threads.setSelection(0);
        model.select(0);
        super.performDefaults();
    }

    Spinner threadsSpinner() {
        return threads;
    }

    Combo backendCombo() {
        return backend;
    }

    Combo modelCombo() {
        return model;
    }
}
