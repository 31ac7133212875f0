package dev.sisma.ui.swt.internal.editor;

/**
 * Maps canvas pixels to mask pixels: screen = origin + image * zoom. Plain math, no SWT, so the
 * zoom and pan rules are unit-tested.
 */
public final class Viewport {
    public static final double MIN_ZOOM = 0.05;
    public static final double MAX_ZOOM = 64;

    private double zoom = 1;
    private double originX;
    private double originY;

    public double zoom() {
        return zoom;
    }

    public double originX() {
        return originX;
    }

    public double originY() {
        return originY;
    }

    /** Mask x under canvas x (floor: pixel {@code i} covers [i, i+1)). */
    public int imageX(double screenX) {
        return (int) Math.floor((screenX - originX) / zoom);
    }

    public int imageY(double screenY) {
        return (int) Math.floor((screenY - originY) / zoom);
    }

    public double screenX(double imageX) {
        return originX + imageX * zoom;
    }

    public double screenY(double imageY) {
        return originY + imageY * zoom;
    }

    /** Fits an image of {@code w x h} into a canvas, centred, with a small margin. */
    public void fit(int w, int h, int canvasWidth, int canvasHeight) {
        if (canvasWidth <= 0 || canvasHeight <= 0) {
            return;
        }
        double z = Math.min((canvasWidth - 8) / (double) w, (canvasHeight - 8) / (double) h);
        zoom = clamp(z);
        center(w, h, canvasWidth, canvasHeight);
    }

    public void center(int w, int h, int canvasWidth, int canvasHeight) {
        originX = Math.floor((canvasWidth - w * zoom) / 2);
        originY = Math.floor((canvasHeight - h * zoom) / 2);
    }

    /** Sets the zoom keeping the image point under canvas point (sx, sy) where it is. */
    public void zoomAt(double newZoom, double sx, double sy) {
        double z = clamp(newZoom);
        double ix = (sx - originX) / zoom;
        double iy = (sy - originY) / zoom;
        zoom = z;
        originX = Math.round(sx - ix * z);
        originY = Math.round(sy - iy * z);
    }

    public void pan(double dx, double dy) {
        originX += dx;
        originY += dy;
    }

    public void set(double zoom, double originX, double originY) {
        this.zoom = clamp(zoom);
        this.originX = originX;
        this.originY = originY;
    }

    private static double clamp(double z) {
        return Math.max(MIN_ZOOM, Math.min(MAX_ZOOM, z));
    }
}
