package dev.sisma.ui.swt.internal.editor;

import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.Color;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Point;
import org.eclipse.swt.graphics.RGB;
import org.eclipse.swt.widgets.Canvas;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Event;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

/**
 * The 19 classes: swatch, shortcut, name and share of the mask. Click selects the class to paint;
 * Shift+click makes the brush paint only over that class (click again to paint over all).
 */
public final class PalettePanel extends Canvas {
    static final int ROW = 22;
    private final ToolState tools;
    private final MaskDocument doc;
    private int[] histogram;
    private int hover = -1;

    public PalettePanel(Composite parent, ToolState tools, MaskDocument doc) {
        super(parent, SWT.DOUBLE_BUFFERED);
        this.tools = tools;
        this.doc = doc;
        Runnable l = this::redraw;
        tools.addListener(l);
        var docListener = new dev.sisma.ui.swt.internal.doc.DocumentListener() {
            @Override
            public void stateChanged(MaskDocument d) {
                histogram = null;
                if (!isDisposed()) {
                    redraw();
                }
            }
        };
        doc.addListener(docListener);
        addListener(SWT.Dispose, e -> {
            tools.removeListener(l);
            doc.removeListener(docListener);
        });
        addListener(SWT.Paint, this::paint);
        addListener(SWT.MouseDown, e -> {
            int c = e.y / ROW;
            if (c < 0 || c >= FaceClass.COUNT) {
                return;
            }
            if ((e.stateMask & SWT.SHIFT) != 0) {
                tools.setOnlyOver(tools.onlyOver() == c ? MaskDocument.ANY : c);
            } else {
                tools.setCls(c);
            }
        });
        addListener(SWT.MouseMove, e -> {
            int c = e.y / ROW;
            if (c != hover) {
                hover = c;
                setToolTipText(c >= 0 && c < FaceClass.COUNT ? tooltip(c) : null);
            }
        });
    }

    static String shortcut(int c) {
        return c <= 9 ? Integer.toString(c) : "Alt+" + (c - 10);
    }

    private static String tooltip(int c) {
        return FaceClass.of(c).partName() + " (class " + c + ", key " + shortcut(c)
                + ")\nclick: paint this class; Shift+click: paint only over this class";
    }

    /** The panel's preferred size. */
    @Override
    public Point computeSize(int wHint, int hHint, boolean changed) {
        return new Point(wHint == SWT.DEFAULT ? 210 : wHint, hHint == SWT.DEFAULT ? ROW * FaceClass.COUNT + 4 : hHint);
    }

    private void paint(Event e) {
        GC gc = e.gc;
        var d = getDisplay();
        if (histogram == null) {
            histogram = doc.histogram();
        }
        int total = doc.width() * doc.height();
        int w = getClientArea().width;
        gc.setBackground(d.getSystemColor(SWT.COLOR_WIDGET_BACKGROUND));
        gc.fillRectangle(getClientArea());
        for (int c = 0; c < FaceClass.COUNT; c++) {
            int y = c * ROW;
            boolean selected = c == tools.cls();
            if (selected) {
                gc.setBackground(d.getSystemColor(SWT.COLOR_LIST_SELECTION));
                gc.fillRectangle(0, y, w, ROW);
            }
            int rgb = FaceClass.of(c).rgb();
            Color col = new Color(new RGB((rgb >> 16) & 0xFF, (rgb >> 8) & 0xFF, rgb & 0xFF));
            gc.setBackground(col);
            gc.fillRectangle(4, y + 3, 16, ROW - 6);
            gc.setForeground(d.getSystemColor(SWT.COLOR_GRAY));
            gc.drawRectangle(4, y + 3, 16, ROW - 6);
            gc.setForeground(d.getSystemColor(selected ? SWT.COLOR_LIST_SELECTION_TEXT : SWT.COLOR_WIDGET_FOREGROUND));
            String label = FaceClass.of(c).partName() + (tools.onlyOver() == c ? "  (only over)" : "");
            gc.drawString(shortcut(c), 26, y + 3, true);
            gc.drawString(label, 72, y + 3, true);
            String pct = total == 0 || histogram[c] == 0 ? "" : String.format("%.1f%%", 100.0 * histogram[c] / total);
            Point ext = gc.stringExtent(pct);
            gc.drawString(pct, w - ext.x - 4, y + 3, true);
        }
    }
}
