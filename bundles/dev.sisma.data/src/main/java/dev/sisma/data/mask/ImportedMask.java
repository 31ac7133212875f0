package dev.sisma.data.mask;

import dev.sisma.api.mask.Mask;

/**
 * A mask read from a file. When the file was a colour image ({@code fromColour}), each pixel took
 * the class of the nearest palette colour and {@code farPixels} of them were farther than
 * {@link MaskColours#FAR_DISTANCE} from every palette colour (another palette, antialiased edges,
 * or not a mask at all); callers should tell the user when that is not 0.
 */
public record ImportedMask(Mask mask, boolean fromColour, long farPixels) {
}
