package dev.sisma.ui.swt.internal.editor;

import java.util.function.IntConsumer;

import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.PaletteData;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Canvas;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Event;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.ui.swt.internal.doc.Change;
import dev.sisma.ui.swt.internal.doc.DocumentListener;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

/**
 * The drawing surface: the mask (over the reference photo), zoom (wheel, at the cursor) and pan
 * (middle drag, or Space + drag), the brush footprint under the cursor (Ctrl+wheel sizes it) and the tools.
 * Right click (or Alt + click) picks the class under the cursor.
 */
public final class MaskCanvas extends Canvas {
    private static final double WHEEL_STEP = 1.25;

    private final MaskDocument doc;
    private final ToolState tools;
    private final Viewport viewport = new Viewport();
    private MaskRenderer.Photo photo;
    private double opacity = 0.6;
    private int highlight = -1;
    private boolean fitPending = true;

    private int[] buffer = new int[0];
    private int mouseX = -1, mouseY = -1;
    private boolean inside;
    private boolean spaceDown;
    private MaskDocument.Stroke stroke;
    private int dragButton;
    private int panX, panY;
    private int shapeX0, shapeY0, shapeX1, shapeY1;
    private boolean shaping;
    private IntConsumer hoverListener = c -> {
    };

    private final DocumentListener docListener = new DocumentListener() {
        @Override
        public void pixelsChanged(Change c) {
            if (isDisposed()) {
                return;
            }
            if (c.resized()) {
                fitPending = true;
                redraw();
                return;
            }
            redrawImageRect(c.x(), c.y(), c.width(), c.height());
        }
    };

    public MaskCanvas(Composite parent, MaskDocument doc, ToolState tools) {
        super(parent, SWT.NO_BACKGROUND | SWT.DOUBLE_BUFFERED);
        this.doc = doc;
        this.tools = tools;
        doc.addListener(docListener);
        Runnable toolListener = this::redraw;
        tools.addListener(toolListener);
        addListener(SWT.Dispose, e -> {
            doc.removeListener(docListener);
            tools.removeListener(toolListener);
        });
        addListener(SWT.Paint, this::paint);
        addListener(SWT.Resize, e -> {
            if (fitPending) {
                redraw();
            }
        });
        addListener(SWT.MouseDown, this::mouseDown);
        addListener(SWT.MouseMove, this::mouseMove);
        addListener(SWT.MouseUp, this::mouseUp);
        addListener(SWT.MouseWheel, e -> {
            if ((e.stateMask & SWT.MOD1) != 0) {
                // Ctrl+wheel sizes the brush without leaving the canvas (a common ask of mask editors).
                tools.setBrush(tools.brush().withSize(tools.brush().size() + (e.count > 0 ? 1 : -1) * Math.max(1, tools.brush().size() / 10)));
                redraw();
            } else {
                zoomAt(e.count > 0 ? viewport.zoom() * WHEEL_STEP : viewport.zoom() / WHEEL_STEP, e.x, e.y);
            }
            e.doit = false;
        });
        addListener(SWT.MouseEnter, e -> {
            inside = true;
            setFocus();
        });
        addListener(SWT.MouseExit, e -> {
            inside = false;
            hoverListener.accept(-1);
            redraw();
        });
        addListener(SWT.KeyDown, e -> {
            if (e.character == ' ') {
                spaceDown = true;
            }
        });
        addListener(SWT.KeyUp, e -> {
            if (e.character == ' ') {
                spaceDown = false;
            }
        });
        setCursor(getDisplay().getSystemCursor(SWT.CURSOR_CROSS));
    }

    public Viewport viewport() {
        return viewport;
    }

    /** Called with the class index under the cursor (-1 outside the mask) as the mouse moves. */
    public void onHover(IntConsumer listener) {
        hoverListener = listener;
    }

    public void setPhoto(MaskRenderer.Photo photo) {
        this.photo = photo;
        redraw();
    }

    public MaskRenderer.Photo photo() {
        return photo;
    }

    public void setOpacity(double opacity) {
        this.opacity = opacity;
        redraw();
    }

    public double opacity() {
        return opacity;
    }

    /** Shows one class at full strength and fades the rest; -1 for none. */
    public void setHighlight(int cls) {
        if (cls != highlight) {
            highlight = cls;
            redraw();
        }
    }

    public void fit() {
        Rectangle r = getClientArea();
        viewport.fit(doc.width(), doc.height(), r.width, r.height);
        fitPending = r.width <= 0;
        redraw();
    }

    public void zoomAt(double zoom, int sx, int sy) {
        viewport.zoomAt(zoom, sx, sy);
        fitPending = false;
        redraw();
    }

    /** Zoom to an exact factor around the canvas centre. */
    public void zoomTo(double zoom) {
        Rectangle r = getClientArea();
        zoomAt(zoom, r.width / 2, r.height / 2);
    }

    private void redrawImageRect(int x, int y, int w, int h) {
        int sx = (int) Math.floor(viewport.screenX(x)) - 1;
        int sy = (int) Math.floor(viewport.screenY(y)) - 1;
        int ex = (int) Math.ceil(viewport.screenX(x + w)) + 1;
        int ey = (int) Math.ceil(viewport.screenY(y + h)) + 1;
        redraw(sx, sy, ex - sx, ey - sy, false);
    }

    // ------------------------------------------------------------------ painting

    private void paint(Event e) {
        if (fitPending) {
            Rectangle r = getClientArea();
            if (r.width > 0 && r.height > 0) {
                viewport.fit(doc.width(), doc.height(), r.width, r.height);
                fitPending = false;
            }
        }
        int x0 = e.x, y0 = e.y, w = e.width, h = e.height;
        if (w <= 0 || h <= 0) {
            return;
        }
        if (buffer.length < w * h) {
            buffer = new int[w * h];
        }
        MaskRenderer.render(doc, photo, opacity, highlight, viewport, buffer, x0, y0, w, h);
        ImageData data = new ImageData(w, h, 24, new PaletteData(0xFF0000, 0x00FF00, 0x0000FF));
        // Write the 24-bit rows directly (big-endian R, G, B per pixel): setPixel per pixel is far slower.
        byte[] bytes = data.data;
        int bpl = data.bytesPerLine;
        for (int y = 0; y < h; y++) {
            int o = y * bpl;
            int s = y * w;
            for (int x = 0; x < w; x++) {
                int p = buffer[s + x];
                bytes[o++] = (byte) (p >> 16);
                bytes[o++] = (byte) (p >> 8);
                bytes[o++] = (byte) p;
            }
        }
        Image img = new Image(getDisplay(), data);
        try {
            e.gc.drawImage(img, x0, y0);
        } finally {
            img.dispose();
        }
        paintOverlay(e.gc);
    }

    private void paintOverlay(GC gc) {
        double z = viewport.zoom();
        if (shaping) {
            int ax = Math.min(shapeX0, shapeX1), bx = Math.max(shapeX0, shapeX1) + 1;
            int ay = Math.min(shapeY0, shapeY1), by = Math.max(shapeY0, shapeY1) + 1;
            int sx = (int) viewport.screenX(ax), sy = (int) viewport.screenY(ay);
            int sw = (int) Math.round((bx - ax) * z), sh = (int) Math.round((by - ay) * z);
            gc.setLineStyle(SWT.LINE_DASH);
            gc.setForeground(getDisplay().getSystemColor(SWT.COLOR_WHITE));
            if (tools.tool() == Tool.ELLIPSE) {
                gc.drawOval(sx, sy, sw, sh);
            } else {
                gc.drawRectangle(sx, sy, sw, sh);
            }
            gc.setLineStyle(SWT.LINE_SOLID);
        }
        if (inside && tools.tool().usesBrush() && !spaceDown && dragButton != 2) {
            int ix = viewport.imageX(mouseX), iy = viewport.imageY(mouseY);
            var b = tools.brush();
            int top = b.top();
            int sx = (int) viewport.screenX(ix + top), sy = (int) viewport.screenY(iy + top);
            int size = (int) Math.round(b.size() * z);
            // Dark then light outline: the footprint stays visible over any class colour.
            gc.setForeground(getDisplay().getSystemColor(SWT.COLOR_BLACK));
            drawFootprint(gc, b.shape() == dev.sisma.ui.swt.internal.doc.Brush.Shape.ROUND, sx - 1, sy - 1, size + 2);
            gc.setForeground(getDisplay().getSystemColor(SWT.COLOR_WHITE));
            drawFootprint(gc, b.shape() == dev.sisma.ui.swt.internal.doc.Brush.Shape.ROUND, sx, sy, size);
        }
    }

    private static void drawFootprint(GC gc, boolean round, int x, int y, int size) {
        if (round && size > 3) {
            gc.drawOval(x, y, size, size);
        } else {
            gc.drawRectangle(x, y, size, size);
        }
    }

    private void redrawCursor(int oldX, int oldY) {
        int r = (int) Math.ceil(tools.brush().size() * viewport.zoom()) + 6;
        redraw(oldX - r, oldY - r, 2 * r, 2 * r, false);
        redraw(mouseX - r, mouseY - r, 2 * r, 2 * r, false);
    }

    // ------------------------------------------------------------------ mouse

    /**
     * A button event always happens where the pointer is inside the canvas, yet GTK reports some
     * synthesized ones (XTest, as used by accessibility tools and Display.post) relative to the wrong
     * window; then the position of the last motion event, which came in order before it, is the truth.
     */
    private void fixButtonLocation(Event e) {
        if (!getClientArea().contains(e.x, e.y) && mouseX >= 0 && getClientArea().contains(mouseX, mouseY)) {
            e.x = mouseX;
            e.y = mouseY;
        }
    }

    private void mouseDown(Event e) {
        if (dragButton != 0) {
            return;
        }
        fixButtonLocation(e);
        mouseX = e.x;
        mouseY = e.y;
        int ix = viewport.imageX(e.x), iy = viewport.imageY(e.y);
        if (e.button == 2 || (e.button == 1 && spaceDown)) {
            dragButton = 2;
            panX = e.x;
            panY = e.y;
            return;
        }
        if (e.button == 3 || (e.button == 1 && ((e.stateMask & SWT.ALT) != 0 || tools.tool() == Tool.EYEDROPPER))) {
            if (doc.contains(ix, iy)) {
                tools.setCls(doc.classAt(ix, iy));
            }
            return;
        }
        if (e.button != 1) {
            return;
        }
        dragButton = 1;
        switch (tools.tool()) {
            case BRUSH, ERASER -> {
                int cls = tools.tool() == Tool.ERASER ? FaceClass.BACKGROUND.index() : tools.cls();
                String name = cls == 0 ? "Erase" : "Brush " + FaceClass.of(cls).partName();
                stroke = doc.beginStroke(tools.brush(), cls, tools.tool() == Tool.ERASER ? MaskDocument.ANY : tools.onlyOver(),
                        name);
                stroke.to(ix, iy);
            }
            case FILL -> doc.floodFill(ix, iy, tools.cls());
            case RECTANGLE, ELLIPSE -> {
                shaping = true;
                shapeX0 = shapeX1 = ix;
                shapeY0 = shapeY1 = iy;
                redraw();
            }
            default -> {
            }
        }
    }

    private void mouseMove(Event e) {
        int ox = mouseX, oy = mouseY;
        mouseX = e.x;
        mouseY = e.y;
        inside = true;
        int ix = viewport.imageX(e.x), iy = viewport.imageY(e.y);
        hoverListener.accept(doc.contains(ix, iy) ? doc.classAt(ix, iy) : -1);
        if (dragButton == 2) {
            viewport.pan(e.x - panX, e.y - panY);
            panX = e.x;
            panY = e.y;
            redraw();
            return;
        }
        if (stroke != null && stroke.isOpen()) {
            stroke.to(ix, iy);
        } else if (shaping) {
            shapeX1 = ix;
            shapeY1 = iy;
            redraw();
        }
        if (tools.tool().usesBrush()) {
            redrawCursor(ox, oy);
        }
    }

    private void mouseUp(Event e) {
        fixButtonLocation(e);
        if (e.button == 1 && dragButton == 1) {
            if (stroke != null) {
                stroke.end();
                stroke = null;
            }
            if (shaping) {
                shaping = false;
                shapeX1 = viewport.imageX(e.x);
                shapeY1 = viewport.imageY(e.y);
                if (tools.tool() == Tool.ELLIPSE) {
                    doc.fillEllipse(shapeX0, shapeY0, shapeX1, shapeY1, tools.cls(), tools.onlyOver());
                } else {
                    doc.fillRect(shapeX0, shapeY0, shapeX1, shapeY1, tools.cls(), tools.onlyOver());
                }
                redraw();
            }
            dragButton = 0;
        } else if ((e.button == 2 || e.button == 1) && dragButton == 2) {
            dragButton = 0;
        }
    }
}
