package dev.sisma.engine.cpu.internal;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.IntConsumer;

/**
 * The backend's worker pool: {@code threads - 1} workers and the calling thread share each
 * {@link #run}'s tasks, claimed one at a time from a counter (an OpenMP-style team, not
 * fork/join). Why not a ForkJoinPool: the ops' tasks are few and coarse (at most 4 per thread),
 * and its recursive split joined on tasks still running elsewhere, so a joining worker parked and
 * the pool started a spare thread to keep its parallelism: three runnable workers on two cores, the
 * barrier waiting on a preempted one. sisma-L/2's denoising step used 1.45 of 2 CPUs that way.
 *
 * <p>Between runs a worker spins for {@link #SPIN_NANOS} before it parks: the model issues its ops
 * back to back, and a park/unpark round trip costs tens of microseconds on a VM. One run at a time
 * per pool: other threads wait for the lock, and a run called from inside one of this pool's tasks
 * runs its tasks in place.
 */
public final class Parallel implements AutoCloseable {
    /** How long an idle worker polls for the next run before it parks. */
    static final long SPIN_NANOS = 50_000;

    /** One run: its own task counter, so a worker that still holds an older run finds nothing left to claim in it. */
    private static final class Job {
        final long seq;
        final IntConsumer body;
        final int count;
        final AtomicInteger next = new AtomicInteger(), unfinished;
        volatile Throwable failure;
        volatile Thread waiter; // the caller, once it parks until unfinished is 0

        Job(long seq, IntConsumer body, int count) {
            this.seq = seq;
            this.body = body;
            this.count = count;
            this.unfinished = new AtomicInteger(count);
        }

        /** Runs tasks until none is left unclaimed. */
        void claim() {
            for (int i; (i = next.getAndIncrement()) < count; ) {
                try {
                    body.accept(i);
                } catch (Throwable t) {
                    if (failure == null) failure = t;
                }
                if (unfinished.decrementAndGet() == 0) {
                    Thread w = waiter;
                    if (w != null) LockSupport.unpark(w);
                }
            }
        }

        void awaitDone() {
            long until = System.nanoTime() + SPIN_NANOS;
            while (unfinished.get() != 0 && System.nanoTime() < until) Thread.onSpinWait();
            if (unfinished.get() == 0) return;
            waiter = Thread.currentThread(); // volatile write before the re-check: the last finisher sees it or we see 0
            while (unfinished.get() != 0) LockSupport.park(this);
        }
    }

    /**
     * A pool nobody closed still ends its workers once unreachable: they hold the team, not the
     * pool, and this closes the team then.
     */
    private static final Cleaner CLEANER = Cleaner.create();

    private final int threads;
    private final Team team;
    private final Cleaner.Cleanable cleanable;

    public Parallel(int threads) {
        this.threads = threads;
        this.team = new Team(threads);
        this.cleanable = CLEANER.register(this, team::close);
    }

    public int threads() { return threads; }

    /** Runs body(0..n-1), in parallel when there is more than one thread and task; returns when all are done. */
    public void run(int n, IntConsumer body) {
        team.run(n, body);
    }

    /** Number of tasks for {@code work} units of at least {@code minPerTask} each, at most 4 per thread. */
    public int tasks(long work, long minPerTask) {
        long t = Math.max(1, work / Math.max(1, minPerTask));
        return (int) Math.min(t, threads == 1 ? 1 : 4L * threads);
    }

    /** This pool's worker threads (tests). */
    java.util.List<Thread> workerThreads() {
        return java.util.List.of(team.workers);
    }

    @Override
    public void close() {
        cleanable.clean();
    }

    /** The workers and the current run. */
    private static final class Team {
        private final Thread[] workers;
        private final boolean[] parked; // guarded by itself
        private final ReentrantLock lock = new ReentrantLock();
        private volatile Job current;
        private long runs; // guarded by lock
        private volatile boolean closed;

        Team(int threads) {
            this.workers = new Thread[Math.max(0, threads - 1)];
            this.parked = new boolean[workers.length];
            for (int w = 0; w < workers.length; w++) {
                int id = w;
                workers[w] = Thread.ofPlatform().daemon().name("sisma-cpu-" + (w + 1)).unstarted(() -> work(id));
                workers[w].start();
            }
        }

        void run(int n, IntConsumer body) {
            if (n <= 0) return;
            if (workers.length == 0 || n == 1 || lock.isHeldByCurrentThread() || isWorker()) {
                for (int i = 0; i < n; i++) body.accept(i);
                return;
            }
            lock.lock();
            Job job = new Job(++runs, body, n);
            try {
                current = job;
                signal();
                job.claim();
                job.awaitDone(); // also after a failure here: the workers may still be using the caller's buffers
            } finally {
                current = null; // no reference to the caller's data kept between runs
                lock.unlock();
            }
            Throwable f = job.failure;
            if (f instanceof RuntimeException r) throw r;
            if (f instanceof Error e) throw e;
            if (f != null) throw new IllegalStateException(f);
        }

        private boolean isWorker() {
            Thread t = Thread.currentThread();
            for (Thread w : workers) if (w == t) return true;
            return false;
        }

        /** Wakes the parked workers for a new run. */
        private void signal() {
            synchronized (parked) {
                for (int w = 0; w < workers.length; w++)
                    if (parked[w]) {
                        parked[w] = false;
                        LockSupport.unpark(workers[w]);
                    }
            }
        }

        private void work(int id) {
            long seen = 0; // the last run this worker took part in (a number: no reference to its data kept)
            while (!closed) {
                Job j = current;
                if (j == null || j.seq == seen) {
                    long until = System.nanoTime() + SPIN_NANOS;
                    while (((j = current) == null || j.seq == seen) && !closed && System.nanoTime() < until) Thread.onSpinWait();
                    if (j == null || j.seq == seen) {
                        synchronized (parked) {
                            j = current;
                            if ((j != null && j.seq != seen) || closed) continue; // a run came (or close) while deciding to park
                            parked[id] = true;
                        }
                        LockSupport.park(this); // signal() unparks after publishing the next run
                        continue;
                    }
                }
                seen = j.seq;
                j.claim();
            }
        }

        void close() {
            closed = true;
            synchronized (parked) {
                for (Thread w : workers) LockSupport.unpark(w);
            }
        }
    }
}
