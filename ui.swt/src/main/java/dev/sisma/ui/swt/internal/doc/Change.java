package dev.sisma.ui.swt.internal.doc;

/**
 * What changed in a {@link MaskDocument}: the bounding box of the pixels that changed (empty when
 * only the history did), and whether the mask was replaced with one of another size.
 */
public record Change(int x, int y, int width, int height, boolean resized) {
    public static final Change NONE = new Change(0, 0, 0, 0, false);

    public boolean isEmpty() {
        return width <= 0 || height <= 0;
    }
}
