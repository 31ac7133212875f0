package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;

/** File > Open Mask... (Ctrl+O): the mask editor's Open, as a workbench command. */
public final class OpenMaskHandler extends AbstractHandler {
    @Override
    public Object execute(ExecutionEvent event) {
        MaskEditorView view = GenerateHandler.view(event);
        if (view != null) {
            view.editor().open();
        }
        return null;
    }
}
