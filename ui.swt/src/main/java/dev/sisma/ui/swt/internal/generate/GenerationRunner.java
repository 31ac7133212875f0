package dev.sisma.ui.swt.internal.generate;

import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;

/**
 * Runs generation jobs on one background thread, never the caller's. Starting a job cancels the one
 * before (live regenerate restarts the job when the mask changes); only the newest job's results are
 * reported. No SWT: the panel marshals the callbacks to the UI thread.
 */
public final class GenerationRunner implements AutoCloseable {
    /** Callbacks, on the worker thread. {@code job} identifies the job they are about. */
    public interface Listener {
        void progress(long job, int done, int total, double secondsPerStep);

        void finished(long job, List<GeneratedImage> images, double seconds);

        void cancelled(long job);

        void failed(long job, Throwable error);
    }

    private final ExecutorService worker = Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "sisma-generate");
        t.setDaemon(true);
        return t;
    });
    private final AtomicLong jobs = new AtomicLong();
    private volatile AtomicBoolean currentCancel = new AtomicBoolean();
    private volatile long running = -1;

    /** Cancels any running job and queues this one; returns its id. */
    public long start(Generator generator, GenerationRequest request, Listener listener) {
        long id = jobs.incrementAndGet();
        currentCancel.set(true);
        AtomicBoolean cancel = new AtomicBoolean();
        currentCancel = cancel;
        worker.execute(() -> run(id, generator, request, listener, cancel));
        return id;
    }

    private void run(long id, Generator generator, GenerationRequest request, Listener listener, AtomicBoolean cancel) {
        if (cancel.get() || id != jobs.get()) {
            listener.cancelled(id);
            return;
        }
        running = id;
        long t0 = System.nanoTime();
        try {
            List<GeneratedImage> images = generator.generate(request, new Progress() {
                @Override
                public void step(int done, int total, double secondsPerStep) {
                    listener.progress(id, done, total, secondsPerStep);
                }

                @Override
                public boolean cancelled() {
                    return cancel.get();
                }
            });
            if (cancel.get()) {
                listener.cancelled(id);
            } else {
                listener.finished(id, images, (System.nanoTime() - t0) / 1e9);
            }
        } catch (CancellationException e) {
            listener.cancelled(id);
        } catch (RuntimeException | Error e) {
            listener.failed(id, e);
        } finally {
            running = -1;
        }
    }

    /** Asks the current job to stop; it reports {@code cancelled}. */
    public void cancel() {
        currentCancel.set(true);
    }

    /** The id of the job running now, or -1. */
    public long running() {
        return running;
    }

    public long latest() {
        return jobs.get();
    }

    @Override
    public void close() {
        cancel();
        worker.shutdown();
        try {
            worker.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
