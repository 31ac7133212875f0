package dev.sisma.ui.swt.internal.editor;

import dev.sisma.ui.swt.internal.ChangeListeners;


import dev.sisma.api.mask.FaceClass;
import dev.sisma.ui.swt.internal.doc.Brush;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

/** The current tool, class, brush and paint-only-over class, shared by the canvas, palette and tool bar. */
public final class ToolState {
    private Tool tool = Tool.BRUSH;
    private int cls = FaceClass.SKIN.index();
    private Brush brush = new Brush(Brush.Shape.ROUND, 12);
    private int onlyOver = MaskDocument.ANY;
    private final ChangeListeners listeners = new ChangeListeners();

    public Tool tool() {
        return tool;
    }

    public int cls() {
        return cls;
    }

    public Brush brush() {
        return brush;
    }

    /** A class index, or {@link MaskDocument#ANY}: brush and shapes paint only over that class. */
    public int onlyOver() {
        return onlyOver;
    }

    public void setTool(Tool t) {
        if (t != tool) {
            tool = t;
            fire();
        }
    }

    public void setCls(int c) {
        FaceClass.of(c);
        if (c != cls) {
            cls = c;
            fire();
        }
    }

    public void setBrush(Brush b) {
        if (b.size() != brush.size() || b.shape() != brush.shape()) {
            brush = b;
            fire();
        }
    }

    public void setOnlyOver(int c) {
        if (c != onlyOver) {
            onlyOver = c;
            fire();
        }
    }

    public void addListener(Runnable r) {
        listeners.add(r);
    }

    public void removeListener(Runnable r) {
        listeners.remove(r);
    }

    private void fire() {
        listeners.fire();
    }
}
