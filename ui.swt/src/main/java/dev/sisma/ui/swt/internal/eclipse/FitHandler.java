package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;

/** Mask > Fit to view: the mask editor's Fit, as a workbench command. */
public final class FitHandler extends AbstractHandler {
    @Override
    public Object execute(ExecutionEvent event) {
        MaskEditorView view = GenerateHandler.view(event);
        if (view != null) {
            view.editor().canvas().fit();
        }
        return null;
    }
}
