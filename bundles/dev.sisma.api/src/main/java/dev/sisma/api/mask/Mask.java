package dev.sisma.api.mask;

import java.util.Arrays;

/**
 * A semantic mask: one class index (0..18, see {@link FaceClass}) per pixel, row-major.
 * Immutable: the constructor copies nothing, so callers must not modify {@code classes} afterwards;
 * use {@link #copyOfClasses()} for a private copy.
 */
public final class Mask {
    private final int width;
    private final int height;
    private final byte[] classes;

    public Mask(int width, int height, byte[] classes) {
        if (width <= 0 || height <= 0) {
            throw new IllegalArgumentException("mask size must be positive, got " + width + "x" + height);
        }
        if (classes.length != (long) width * height) {
            throw new IllegalArgumentException("mask of " + width + "x" + height + " needs " + ((long) width * height)
                    + " class values, got " + classes.length);
        }
        for (byte b : classes) {
            if (b < 0 || b >= FaceClass.COUNT) {
                throw new IllegalArgumentException("class value " + b + " is outside 0.." + (FaceClass.COUNT - 1));
            }
        }
        this.width = width;
        this.height = height;
        this.classes = classes;
    }

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int classAt(int x, int y) {
        return classes[y * width + x];
    }

    public byte[] copyOfClasses() {
        return classes.clone();
    }

    /** Nearest-neighbour resize, the only resampling that keeps class indices valid. */
    public Mask resizeNearest(int newWidth, int newHeight) {
        if (newWidth == width && newHeight == height) {
            return this;
        }
        byte[] out = new byte[newWidth * newHeight];
        for (int y = 0; y < newHeight; y++) {
            int sy = (int) ((long) y * height / newHeight);
            for (int x = 0; x < newWidth; x++) {
                int sx = (int) ((long) x * width / newWidth);
                out[y * newWidth + x] = classes[sy * width + sx];
            }
        }
        return new Mask(newWidth, newHeight, out);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof Mask m && m.width == width && m.height == height && Arrays.equals(m.classes, classes);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + height) + Arrays.hashCode(classes);
    }

    @Override
    public String toString() {
        return "Mask[" + width + "x" + height + "]";
    }
}
