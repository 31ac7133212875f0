package dev.sisma.engine.cpu.internal;

import java.util.concurrent.ForkJoinPool;
import java.util.concurrent.RecursiveAction;
import java.util.function.IntConsumer;

/** The backend's worker pool: runs {@code n} coarse tasks, splitting recursively (fork/join). */
public final class Parallel implements AutoCloseable {
    private final int threads;
    private final ForkJoinPool pool;

    public Parallel(int threads) {
        this.threads = threads;
        this.pool = threads > 1 ? new ForkJoinPool(threads) : null;
    }

    public int threads() { return threads; }

    /** Runs body(0..n-1), in parallel when there is more than one thread and task. */
    public void run(int n, IntConsumer body) {
        if (n <= 0) return;
        if (pool == null || n == 1) {
            for (int i = 0; i < n; i++) body.accept(i);
            return;
        }
        if (java.util.concurrent.ForkJoinTask.getPool() == pool) new Range(0, n, body).invoke(); // nested: stay in the pool
        else pool.invoke(new Range(0, n, body));
    }

    /** Number of tasks for {@code work} units of at least {@code minPerTask} each, at most 4 per thread. */
    public int tasks(long work, long minPerTask) {
        long t = Math.max(1, work / Math.max(1, minPerTask));
        return (int) Math.min(t, threads == 1 ? 1 : 4L * threads);
    }

    private static final class Range extends RecursiveAction {
        final int lo, hi;
        final IntConsumer body;

        Range(int lo, int hi, IntConsumer body) { this.lo = lo; this.hi = hi; this.body = body; }

        @Override
        protected void compute() {
            if (hi - lo == 1) { body.accept(lo); return; }
            int mid = (lo + hi) >>> 1;
            invokeAll(new Range(lo, mid, body), new Range(mid, hi, body));
        }
    }

    @Override
    public void close() {
        if (pool != null) pool.shutdownNow();
    }
}
