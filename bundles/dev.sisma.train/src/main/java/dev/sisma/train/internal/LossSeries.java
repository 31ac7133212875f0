package dev.sisma.train.internal;

/**
 * The loss history for the plot, in bounded memory: at most {@link #CAPACITY} points; when full,
 * neighbouring points are averaged in pairs and each later point covers twice as many steps. So a
 * run of any length keeps a fixed-size, evenly spaced summary.
 */
public final class LossSeries {
    static final int CAPACITY = 4096;

    private final long[] steps = new long[CAPACITY];
    private final double[] losses = new double[CAPACITY];
    private int size;
    private long bucket = 1;
    // the point being accumulated
    private double accLoss;
    private long accCount;

    /** Adds the loss of one step (steps increase). Non-finite losses are ignored. */
    public void add(long step, double loss) {
        if (!Double.isFinite(loss)) {
            return;
        }
        accLoss += loss;
        accCount++;
        if (accCount < bucket) {
            return;
        }
        if (size == CAPACITY) {
            for (int i = 0; i < CAPACITY / 2; i++) {
                steps[i] = steps[2 * i + 1];
                losses[i] = (losses[2 * i] + losses[2 * i + 1]) / 2;
            }
            size = CAPACITY / 2;
            bucket *= 2;
        }
        steps[size] = step;
        losses[size] = accLoss / accCount;
        size++;
        accLoss = 0;
        accCount = 0;
    }

    public int size() {
        return size;
    }

    public long step(int i) {
        return steps[i];
    }

    public double loss(int i) {
        return losses[i];
    }

    /** Steps per point now. */
    public long bucket() {
        return bucket;
    }
}
