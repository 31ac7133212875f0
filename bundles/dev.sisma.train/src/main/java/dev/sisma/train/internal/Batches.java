package dev.sisma.train.internal;

import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Sample;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.Philox;

/**
 * Turns dataset samples into the model's input tensors: images [B, 3, S, S] in [-1, 1] and
 * one-hot masks [B, classes, S, S]. Which samples make step k's batch is drawn from Philox keyed
 * by (seed, k) (with replacement), so it does not depend on what ran before: a resumed run sees
 * the same batches. Host arrays are made once and reused.
 */
public final class Batches {
    /** Random streams of the trainer (noise, t and mask dropout are FlowMatching's): each has its own Philox key derived from the run seed. */
    public static final long STREAM_DATA = 1, STREAM_SAMPLES = 5;

    private final Dataset dataset;
    private final int size, classes;
    private float[] images = new float[0];
    private float[] masks = new float[0];

    public Batches(Dataset dataset, int size, int classes) {
        this.dataset = dataset;
        this.size = size;
        this.classes = classes;
    }

    /** The Philox key of {@code stream} in a run seeded with {@code seed}. */
    public static long key(long seed, long stream) {
        long z = seed * 0x9E3779B97F4A7C15L + stream * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** The first Philox counter of step {@code step}: room for 2^32 numbers per step and stream. */
    public static long offset(long step) {
        return step << 32;
    }

    /** Dataset indices of step {@code step}'s batch. */
    public int[] indices(long seed, long step, int batch) {
        int[] idx = new int[batch];
        long key = key(seed, STREAM_DATA);
        for (int i = 0; i < batch; i++) {
            idx[i] = (int) Math.min(dataset.size() - 1L, (long) (Philox.uniformAt(key, offset(step), i) * (double) dataset.size()));
        }
        return idx;
    }

    /** Images and one-hot masks of the given samples, on {@code backend}, in the current scope. */
    public Tensor[] load(Backend backend, int[] indices) {
        int b = indices.length, plane = size * size;
        if (images.length != b * 3 * plane) {
            images = new float[b * 3 * plane];
            masks = new float[b * classes * plane];
        }
        java.util.Arrays.fill(masks, 0f);
        for (int i = 0; i < b; i++) {
            Sample s = dataset.get(indices[i], size);
            System.arraycopy(s.image(), 0, images, i * 3 * plane, 3 * plane);
            oneHot(s.mask(), masks, i * classes * plane, plane);
        }
        return new Tensor[] {Tensor.of(backend, images, b, 3, size, size), Tensor.of(backend, masks, b, classes, size, size)};
    }

    /** Writes the one-hot planes of {@code mask} at {@code offset} (the planes must be zero). */
    static void oneHot(Mask mask, float[] dst, int offset, int plane) {
        byte[] c = mask.copyOfClasses();
        for (int p = 0; p < plane; p++) {
            dst[offset + c[p] * plane + p] = 1f;
        }
    }

    /** One-hot masks [n, classes, size, size] of the given masks. */
    public static Tensor oneHot(Backend backend, java.util.List<Mask> list, int classes) {
        int size = list.get(0).width(), plane = size * size;
        float[] m = new float[list.size() * classes * plane];
        for (int i = 0; i < list.size(); i++) {
            oneHot(list.get(i), m, i * classes * plane, plane);
        }
        return Tensor.of(backend, m, list.size(), classes, size, size);
    }
}
