package dev.sisma.data.dataset;

import dev.sisma.api.mask.Mask;

/**
 * One training pair at the requested size: {@code image} is RGB as float CHW (planes R, G, B, each
 * row-major {@code size x size}) in [-1, 1]; {@code mask} is {@code size x size}. {@code id} names
 * the sample in file names and messages (e.g. {@code "28017"} or {@code "synth-s1-i42"}).
 */
public record Sample(String id, float[] image, Mask mask) {
    public Sample {
        if (image.length != 3 * mask.width() * mask.height()) {
            throw new IllegalArgumentException("image of " + image.length + " values does not match a "
                    + mask.width() + "x" + mask.height() + " mask");
        }
    }

    /** The side of the (square) sample. */
    public int size() {
        return mask.width();
    }
}
