package dev.sisma.ui.swt.internal.editor;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.ui.swt.internal.doc.MaskDocument;

/**
 * Renders the visible part of the mask into canvas pixels (0xRRGGBB): nearest-neighbour zoom, the
 * palette colour of each class blended over the reference photo by the mask opacity, a grey
 * checker outside the mask. No SWT: the result is exactly what the canvas shows, so it is testable.
 */
public final class MaskRenderer {
    static final int OUTSIDE_LIGHT = 0x3C3C3C;
    static final int OUTSIDE_DARK = 0x323232;

    private static final int[] PALETTE = new int[FaceClass.COUNT];

    static {
        for (FaceClass c : FaceClass.values()) {
            PALETTE[c.index()] = c.rgb();
        }
    }

    /** A reference photo: packed 0xRRGGBB pixels; it is stretched over the mask. */
    public record Photo(int width, int height, int[] rgb) {
    }

    /**
     * @param out        pixels of the canvas rectangle at ({@code x0}, {@code y0}) of {@code outWidth x outHeight},
     *                   row-major; reused between frames
     * @param opacity    mask opacity 0..1 over the photo (1 without a photo shows pure palette colours)
     * @param highlight  a class to show at full opacity while the others are faded, or -1
     */
    public static void render(MaskDocument doc, Photo photo, double opacity, int highlight, Viewport vp, int[] out,
            int x0, int y0, int outWidth, int outHeight) {
        int w = doc.width();
        int h = doc.height();
        int a = (int) Math.round(Math.max(0, Math.min(1, photo == null ? 1 : opacity)) * 256);
        // Column lookups computed once per frame, so the inner loop is table reads and one blend.
        int[] colX = new int[outWidth];
        int[] photoX = new int[outWidth];
        for (int sx = 0; sx < outWidth; sx++) {
            int ix = vp.imageX(x0 + sx + 0.5);
            colX[sx] = ix >= 0 && ix < w ? ix : -1;
            photoX[sx] = photo == null || colX[sx] < 0 ? 0 : (int) ((long) ix * photo.width() / w);
        }
        for (int sy = 0; sy < outHeight; sy++) {
            int iy = vp.imageY(y0 + sy + 0.5);
            int o = sy * outWidth;
            if (iy < 0 || iy >= h) {
                for (int sx = 0; sx < outWidth; sx++) {
                    out[o + sx] = checker(x0 + sx, y0 + sy);
                }
                continue;
            }
            int row = iy * w;
            int prow = photo == null ? 0 : (int) ((long) iy * photo.height() / h) * photo.width();
            for (int sx = 0; sx < outWidth; sx++) {
                int ix = colX[sx];
                if (ix < 0) {
                    out[o + sx] = checker(x0 + sx, y0 + sy);
                    continue;
                }
                int cls = doc.rawClass(row + ix);
                int colour = PALETTE[cls];
                int alpha = highlight >= 0 ? (cls == highlight ? 256 : a / 4) : a;
                if (photo == null && highlight < 0) {
                    out[o + sx] = colour;
                } else {
                    int under = photo == null ? 0 : photo.rgb()[prow + photoX[sx]];
                    out[o + sx] = blend(colour, under, alpha);
                }
            }
        }
    }

    /** {@code top} over {@code bottom} with alpha 0..256. */
    static int blend(int top, int bottom, int alpha) {
        int inv = 256 - alpha;
        int r = (((top >> 16) & 0xFF) * alpha + ((bottom >> 16) & 0xFF) * inv) >> 8;
        int g = (((top >> 8) & 0xFF) * alpha + ((bottom >> 8) & 0xFF) * inv) >> 8;
        int b = ((top & 0xFF) * alpha + (bottom & 0xFF) * inv) >> 8;
        return (r << 16) | (g << 8) | b;
    }

    private static int checker(int sx, int sy) {
        return (((sx >> 3) ^ (sy >> 3)) & 1) == 0 ? OUTSIDE_LIGHT : OUTSIDE_DARK;
    }

    private MaskRenderer() {
    }
}
