package dev.sisma.data.dataset;

import org.osgi.annotation.versioning.ConsumerType;

import dev.sisma.api.mask.Mask;

/**
 * A fixed, indexed collection of (image, mask) pairs. {@link #get(int, int)} is deterministic: the
 * same index and size always give the same pair. Implementations are safe to call from several
 * threads at once (data loaders).
 */
@ConsumerType
public interface Dataset {
    /** For messages, e.g. {@code "celebamask-hq /data/CelebAMask-HQ (train, 28000)"}. */
    String description();

    /** Number of samples; valid indices are {@code 0 .. size() - 1}. */
    int size();

    /**
     * Sample {@code index} at {@code size x size}: the image center-cropped and resized (area
     * averaging / bilinear), the mask center-cropped and resized nearest-neighbour.
     *
     * @throws dev.sisma.api.cli.InputException when a file of the dataset is bad (names the file)
     */
    Sample get(int index, int size);

    /** Only the mask of sample {@code index} (cheaper when the image is not needed). */
    default Mask mask(int index, int size) {
        return get(index, size).mask();
    }
}
