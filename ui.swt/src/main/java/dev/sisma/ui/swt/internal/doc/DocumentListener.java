package dev.sisma.ui.swt.internal.doc;

/** Told about every change of a {@link MaskDocument}, on the thread that made it. */
public interface DocumentListener {
    /** Pixels changed (during a stroke this is called for every segment). */
    default void pixelsChanged(Change change) {
    }

    /**
     * An edit was completed, undone or redone, the document was loaded or saved: the undo/redo
     * state, the dirty flag or the file may differ now.
     */
    default void stateChanged(MaskDocument document) {
    }
}
