package dev.sisma.data.mask;

import java.awt.image.BufferedImage;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;

/** The CelebAMask-HQ display palette ({@link FaceClass#rgb()}): rendering a mask and mapping colours back. */
public final class MaskColours {
    /**
     * A colour farther than this (Euclidean, in 0..255 RGB) from every palette colour counts as far.
     * The closest two palette colours are 51 apart, so a colour between them is never far.
     */
    public static final double FAR_DISTANCE = 40;

    private static final int[] PALETTE = new int[FaceClass.COUNT];

    static {
        for (FaceClass c : FaceClass.values()) {
            PALETTE[c.index()] = c.rgb();
        }
    }

    private MaskColours() {
    }

    /** The palette colour (0xRRGGBB) of each pixel, row-major. */
    public static int[] toRgb(Mask mask) {
        byte[] classes = mask.copyOfClasses();
        int[] rgb = new int[classes.length];
        for (int i = 0; i < classes.length; i++) {
            rgb[i] = PALETTE[classes[i]];
        }
        return rgb;
    }

    /** The mask in the palette, as an RGB image (for sheets, previews and the editor). */
    public static BufferedImage render(Mask mask) {
        BufferedImage img = new BufferedImage(mask.width(), mask.height(), BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, mask.width(), mask.height(), toRgb(mask), 0, mask.width());
        return img;
    }

    /** The class whose palette colour is nearest to {@code rgb} (0xRRGGBB; alpha ignored). */
    public static int nearestClass(int rgb) {
        int best = 0;
        int bestD = Integer.MAX_VALUE;
        for (int k = 0; k < PALETTE.length; k++) {
            int d = distanceSquared(rgb, PALETTE[k]);
            if (d < bestD) {
                bestD = d;
                best = k;
            }
        }
        return best;
    }

    /** Squared RGB distance between two 0xRRGGBB colours. */
    public static int distanceSquared(int a, int b) {
        int dr = ((a >> 16) & 0xFF) - ((b >> 16) & 0xFF);
        int dg = ((a >> 8) & 0xFF) - ((b >> 8) & 0xFF);
        int db = (a & 0xFF) - (b & 0xFF);
        return dr * dr + dg * dg + db * db;
    }

    /**
     * Maps each pixel (0xRRGGBB) to its nearest palette class. Masks hold few distinct colours, so
     * the last colour's answer is reused: a run of equal pixels costs one comparison each.
     */
    public static ImportedMask fromRgb(int width, int height, int[] rgb) {
        byte[] classes = new byte[width * height];
        long far = 0;
        int farSq = (int) (FAR_DISTANCE * FAR_DISTANCE);
        int lastRgb = -1;
        int lastClass = 0;
        boolean lastFar = false;
        for (int i = 0; i < classes.length; i++) {
            int c = rgb[i] & 0xFFFFFF;
            if (c != lastRgb) {
                lastRgb = c;
                lastClass = nearestClass(c);
                lastFar = distanceSquared(c, PALETTE[lastClass]) > farSq;
            }
            classes[i] = (byte) lastClass;
            if (lastFar) {
                far++;
            }
        }
        return new ImportedMask(new Mask(width, height, classes), true, far);
    }
}
