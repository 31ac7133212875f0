package dev.sisma.data.synth;

import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Sample;
import dev.sisma.data.dataset.Split;

/**
 * {@link SyntheticFaces} as a {@link Dataset} of {@code count} samples. The test split draws from
 * indices far from the train split's ({@value #TEST_OFFSET} and up), so a model trained on one
 * never saw the other's faces.
 */
public final class SyntheticDataset implements Dataset {
    /** First face index of the test split. */
    public static final long TEST_OFFSET = 1L << 40;
    public static final int DEFAULT_TRAIN_COUNT = 100_000;
    public static final int DEFAULT_TEST_COUNT = 2_000;

    private final SyntheticFaces faces;
    private final Split split;
    private final int count;
    private final long offset;

    public SyntheticDataset(long seed, Split split, int count) {
        if (count <= 0) {
            throw new IllegalArgumentException("count must be positive, got " + count);
        }
        this.faces = new SyntheticFaces(seed);
        this.split = split;
        this.count = count;
        this.offset = split == Split.TEST ? TEST_OFFSET : 0;
    }

    /** The default count for the split: {@value #DEFAULT_TRAIN_COUNT} train / all, {@value #DEFAULT_TEST_COUNT} test. */
    public SyntheticDataset(long seed, Split split) {
        this(seed, split, split == Split.TEST ? DEFAULT_TEST_COUNT : DEFAULT_TRAIN_COUNT);
    }

    public SyntheticFaces faces() {
        return faces;
    }

    /** The face index (for {@link SyntheticFaces}) of sample {@code index}. */
    public long faceIndex(int index) {
        return offset + index;
    }

    @Override
    public String description() {
        return "synthetic faces (seed " + faces.seed() + ", " + split.name().toLowerCase() + ", " + count + ")";
    }

    @Override
    public int size() {
        return count;
    }

    @Override
    public Sample get(int index, int size) {
        return faces.sample(faceIndex(check(index)), size);
    }

    @Override
    public Mask mask(int index, int size) {
        return faces.mask(faceIndex(check(index)), size);
    }

    private int check(int index) {
        if (index < 0 || index >= count) {
            throw new IndexOutOfBoundsException("index " + index + " outside 0.." + (count - 1));
        }
        return index;
    }
}
