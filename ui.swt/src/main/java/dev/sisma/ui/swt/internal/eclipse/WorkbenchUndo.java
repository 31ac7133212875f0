package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.commands.ExecutionException;
import org.eclipse.core.commands.operations.AbstractOperation;
import org.eclipse.core.commands.operations.IOperationHistory;
import org.eclipse.core.commands.operations.IUndoContext;
import org.eclipse.core.runtime.IAdaptable;
import org.eclipse.core.runtime.IProgressMonitor;
import org.eclipse.core.runtime.IStatus;
import org.eclipse.core.runtime.Status;

import dev.sisma.ui.swt.internal.doc.DocumentListener;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

/**
 * Puts each edit of a mask document on the workbench's operation history (in the view's undo
 * context), so Edit > Undo, Ctrl+Z and the history undo and redo the mask. The document keeps the
 * pixels; an operation undoes or redoes one step of it. Undo and redo done in the editor itself (its
 * toolbar) are mirrored on the history, and opening another mask clears the context.
 */
final class WorkbenchUndo implements DocumentListener {
    private final MaskDocument doc;
    private final IOperationHistory history;
    private final IUndoContext context;
    private int lastUndo;
    private int lastRedo;
    /** True while the history moves because the document already did (mirroring), or the reverse. */
    private boolean syncing;

    WorkbenchUndo(MaskDocument doc, IOperationHistory history, IUndoContext context) {
        this.doc = doc;
        this.history = history;
        this.context = context;
        lastUndo = doc.undoCount();
        lastRedo = doc.redoCount();
    }

    IUndoContext context() {
        return context;
    }

    @Override
    public void stateChanged(MaskDocument d) {
        int u = doc.undoCount();
        int r = doc.redoCount();
        if (syncing || (u == lastUndo && r == lastRedo)) {
            lastUndo = u;
            lastRedo = r;
            return;
        }
        syncing = true;
        try {
            if (u == lastUndo - 1 && r == lastRedo + 1 && history.canUndo(context)) {
                history.undo(context, null, null);
            } else if (u == lastUndo + 1 && r == lastRedo - 1 && history.canRedo(context)) {
                history.redo(context, null, null);
            } else if (u == lastUndo + 1 && r == 0) {
                Step step = new Step(doc.undoName());
                step.addContext(context);
                history.add(step);
            } else {
                // a new document, or a history the document trimmed: start over
                history.dispose(context, true, true, false);
            }
        } catch (ExecutionException e) {
            history.dispose(context, true, true, false);
        } finally {
            syncing = false;
            lastUndo = u;
            lastRedo = r;
        }
    }

    void dispose() {
        history.dispose(context, true, true, true);
    }

    /** One step of the document's own history. */
    private final class Step extends AbstractOperation {
        Step(String label) {
            super(label == null || label.isBlank() ? "Edit" : label);
        }

        @Override
        public IStatus execute(IProgressMonitor monitor, IAdaptable info) {
            return Status.OK_STATUS;
        }

        @Override
        public IStatus undo(IProgressMonitor monitor, IAdaptable info) {
            return move(true);
        }

        @Override
        public IStatus redo(IProgressMonitor monitor, IAdaptable info) {
            return move(false);
        }

        private IStatus move(boolean back) {
            if (syncing) {
                return Status.OK_STATUS;
            }
            syncing = true;
            try {
                boolean moved = back ? doc.undo() : doc.redo();
                lastUndo = doc.undoCount();
                lastRedo = doc.redoCount();
                return moved ? Status.OK_STATUS : Status.CANCEL_STATUS;
            } finally {
                syncing = false;
            }
        }
    }
}
