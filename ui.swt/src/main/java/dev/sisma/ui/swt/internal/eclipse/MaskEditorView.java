package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.ui.ISaveablePart;
import org.eclipse.ui.part.ViewPart;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.util.tracker.ServiceTracker;

import dev.sisma.api.generate.Generator;
import dev.sisma.data.synth.SyntheticFaces;
import dev.sisma.ui.swt.internal.doc.DocumentListener;
import dev.sisma.ui.swt.internal.doc.MaskDocument;
import dev.sisma.ui.swt.internal.editor.Autosave;
import dev.sisma.ui.swt.internal.editor.MaskEditor;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * The mask editor as an Eclipse view (contributed by {@code plugin.xml}): the same
 * {@link MaskEditor} composite as the standalone window. The generator service is tracked in the
 * host's OSGi registry; the workbench asks to save unsaved changes on close ({@link ISaveablePart}).
 */
public final class MaskEditorView extends ViewPart implements ISaveablePart {
    public static final String ID = "dev.sisma.ui.swt.maskEditor";

    private final GeneratorSource generators = new GeneratorSource();
    private ServiceTracker<Generator, Generator> tracker;
    private MaskEditor editor;

    @Override
    public void createPartControl(Composite parent) {
        editor = new MaskEditor(parent, generators);
        SyntheticFaces faces = new SyntheticFaces(20_240_611L);
        editor.setStarterFaces(i -> faces.mask(i, MaskEditor.NEW_SIZE));
        editor.setAutosave(new Autosave(Autosave.defaultDir()));
        editor.document().addListener(new DocumentListener() {
            @Override
            public void stateChanged(MaskDocument d) {
                firePropertyChange(PROP_DIRTY);
                setContentDescription(editor.title());
            }
        });
        Bundle bundle = FrameworkUtil.getBundle(MaskEditorView.class);
        BundleContext context = bundle == null ? null : bundle.getBundleContext();
        if (context != null) {
            tracker = new ServiceTracker<>(context, Generator.class, null) {
                @Override
                public Generator addingService(ServiceReference<Generator> ref) {
                    Generator g = super.addingService(ref);
                    generators.set(g);
                    return g;
                }

                @Override
                public void removedService(ServiceReference<Generator> ref, Generator g) {
                    generators.unset(g);
                    Generator next = getService();
                    if (next != null) {
                        generators.set(next);
                    }
                    super.removedService(ref, g);
                }
            };
            tracker.open();
        } else {
            generators.setAbsentReason("the editor runs outside OSGi: no service registry to find a generator in");
        }
        editor.offerRecovery();
        editor.startAutosave(15_000);
    }

    @Override
    public void setFocus() {
        editor.canvas().setFocus();
    }

    @Override
    public void dispose() {
        if (tracker != null) {
            tracker.close();
        }
        if (editor != null && !editor.document().isDirty()) {
            editor.closed();
        }
        super.dispose();
    }

    @Override
    public void doSave(IProgressMonitor monitor) {
        if (!editor.save() && monitor != null) {
            monitor.setCanceled(true);
        }
    }

    @Override
    public void doSaveAs() {
        editor.saveAs();
    }

    @Override
    public boolean isDirty() {
        return editor != null && editor.document().isDirty();
    }

    @Override
    public boolean isSaveAsAllowed() {
        return true;
    }

    @Override
    public boolean isSaveOnCloseNeeded() {
        return isDirty();
    }
}
