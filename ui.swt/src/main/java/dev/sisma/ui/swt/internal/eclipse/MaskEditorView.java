package dev.sisma.ui.swt.internal.eclipse;

import java.nio.file.Path;

import org.eclipse.core.commands.operations.IOperationHistory;
import org.eclipse.core.commands.operations.ObjectUndoContext;
import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.ui.IActionBars;
import org.eclipse.ui.ISaveablePart;
import org.eclipse.ui.actions.ActionFactory;
import org.eclipse.ui.operations.RedoActionHandler;
import org.eclipse.ui.operations.UndoActionHandler;
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
 * host's OSGi registry; the workbench asks to save unsaved changes on close ({@link ISaveablePart}),
 * and File > Save / Save As (Ctrl+S) save the mask. Edits go on the workbench's operation history
 * (Edit > Undo / Redo, Ctrl+Z), and a running generation is a job in the Progress view.
 */
public final class MaskEditorView extends ViewPart implements ISaveablePart {
    public static final String ID = "dev.sisma.ui.swt.maskEditor";

    private final GeneratorSource generators = new GeneratorSource();
    private ServiceTracker<Generator, Generator> tracker;
    private MaskEditor editor;
    private WorkbenchUndo undo;
    private Job generateJob;

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
        if (editor.generatePanel() != null && getViewSite() != null) {
            editor.generatePanel().setStartModel(EnginePreferences.model());
        }
        editor.offerRecovery();
        editor.startAutosave(15_000);
        if (getViewSite() != null) {
            workbenchUndo();
            watchGeneration();
        }
    }

    /** Edits on the workbench's operation history, in this view's own undo context. */
    private void workbenchUndo() {
        IOperationHistory history = getSite().getWorkbenchWindow().getWorkbench().getOperationSupport().getOperationHistory();
        ObjectUndoContext context = new ObjectUndoContext(this, "Mask Editor");
        undo = new WorkbenchUndo(editor.document(), history, context);
        editor.document().addListener(undo);
        IActionBars bars = getViewSite().getActionBars();
        bars.setGlobalActionHandler(ActionFactory.UNDO.getId(), new UndoActionHandler(getSite(), context));
        bars.setGlobalActionHandler(ActionFactory.REDO.getId(), new RedoActionHandler(getSite(), context));
        bars.updateActionBars();
    }

    /** A generation started in the panel (its button, Ctrl+G, the command) becomes a job while it runs. */
    private void watchGeneration() {
        var display = editor.getDisplay();
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            if (editor.isDisposed()) {
                return;
            }
            var panel = editor.generatePanel();
            if (panel != null && panel.isBusy() && (generateJob == null || generateJob.getState() == Job.NONE)) {
                generateJob = new GenerateJob(panel);
                generateJob.schedule();
            }
            display.timerExec(200, tick[0]);
        };
        display.timerExec(200, tick[0]);
    }

    /** The editor inside this view. */
    public MaskEditor editor() {
        return editor;
    }

    /** Opens a mask file in the editor (a bad file is reported by the editor, in one line). */
    public boolean openMask(Path file) {
        return editor.openFile(file);
    }

    /** Generate with the panel's settings (Mask > Generate, Ctrl+G). */
    public void generate() {
        if (editor.generatePanel() != null) {
            editor.generatePanel().generate();
        }
    }

    /** The undo context of this view's edits on the workbench's operation history. */
    public org.eclipse.core.commands.operations.IUndoContext undoContext() {
        return undo == null ? null : undo.context();
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
        if (undo != null) {
            undo.dispose();
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
