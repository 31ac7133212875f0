package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.core.commands.AbstractHandler;
import org.eclipse.core.commands.ExecutionEvent;

/** Mask > New starter face: the mask editor's starter layouts, as a workbench command. */
public final class StarterFaceHandler extends AbstractHandler {
    @Override
    public Object execute(ExecutionEvent event) {
        MaskEditorView view = GenerateHandler.view(event);
        if (view != null) {
            view.editor().newStarter();
        }
        return null;
    }
}
