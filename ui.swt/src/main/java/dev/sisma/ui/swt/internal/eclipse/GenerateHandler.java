package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;
import org.eclipse.ui.IWorkbenchPart;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.handlers.HandlerUtil;

/** Mask > Generate (Ctrl+G): the Mask Editor view's Generate, as a workbench command. */
public final class GenerateHandler extends AbstractHandler {
    public static final String COMMAND = "dev.sisma.ui.swt.generate";

    @Override
    public Object execute(ExecutionEvent event) {
        MaskEditorView view = view(event);
        if (view != null) {
            view.generate();
        }
        return null;
    }

    static MaskEditorView view(ExecutionEvent event) {
        IWorkbenchPart part = HandlerUtil.getActivePart(event);
        if (part instanceof MaskEditorView v) {
            return v;
        }
        IWorkbenchWindow window = HandlerUtil.getActiveWorkbenchWindow(event);
        if (window == null || window.getActivePage() == null) {
            return null;
        }
        return window.getActivePage().findView(MaskEditorView.ID) instanceof MaskEditorView v ? v : null;
    }
}
