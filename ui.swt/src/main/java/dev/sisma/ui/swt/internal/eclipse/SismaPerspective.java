package dev.sisma.ui.swt.internal.eclipse;

import org.eclipse.ui.IFolderLayout;
import org.eclipse.ui.IPageLayout;
import org.eclipse.ui.IPerspectiveFactory;

/** The sisma perspective: the Mask Editor view (with its Generate panel) fills the window, progress below. */
public final class SismaPerspective implements IPerspectiveFactory {
    public static final String ID = "dev.sisma.ui.swt.perspective";
    /** The workbench's Progress view, as plugin.xml declares it (a plain RCP workbench has none). */
    public static final String PROGRESS_VIEW = "dev.sisma.ui.swt.progress";

    @Override
    public void createInitialLayout(IPageLayout layout) {
        String editorArea = layout.getEditorArea();
        layout.setEditorAreaVisible(false);
        layout.addView(MaskEditorView.ID, IPageLayout.LEFT, 0.95f, editorArea);
        layout.getViewLayout(MaskEditorView.ID).setCloseable(false);
        IFolderLayout bottom = layout.createFolder("dev.sisma.ui.swt.bottom", IPageLayout.BOTTOM, 0.85f, MaskEditorView.ID);
        bottom.addView(PROGRESS_VIEW);
        layout.addShowViewShortcut(MaskEditorView.ID);
        layout.addShowViewShortcut(PROGRESS_VIEW);
    }
}
