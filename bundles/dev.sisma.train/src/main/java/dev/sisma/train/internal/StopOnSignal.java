package dev.sisma.train.internal;

import java.io.PrintStream;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

/**
 * Turns SIGTERM and SIGINT (Ctrl-C) into a stop request for the training loop: a JVM shutdown hook
 * raises the request and then holds the JVM until the loop has finished its step, written the
 * checkpoint and {@link #close closed} this (at most {@code maxWait}), so the run can be resumed.
 *
 * <pre>
 * try (StopOnSignal stop = StopOnSignal.install(err, Duration.ofMinutes(5))) {
 *     trainer.stopWhen(stop).run(resume);
 * }
 * </pre>
 */
public final class StopOnSignal implements BooleanSupplier, AutoCloseable {
    private final PrintStream err;
    private final Duration maxWait;
    private final boolean newLineFirst;
    private final CountDownLatch done = new CountDownLatch(1);
    private final Thread hook;
    private volatile boolean requested;

    private StopOnSignal(PrintStream err, Duration maxWait, boolean newLineFirst) {
        this.err = err;
        this.maxWait = maxWait;
        this.newLineFirst = newLineFirst;
        this.hook = new Thread(this::onShutdown, "sisma-train-stop");
    }

    /**
     * Registers the shutdown hook.
     *
     * @param err          where the one line about stopping goes
     * @param maxWait      how long the hook holds the JVM for the checkpoint
     * @param newLineFirst start that line on a fresh line (a progress line may be open on the terminal)
     */
    public static StopOnSignal install(PrintStream err, Duration maxWait, boolean newLineFirst) {
        StopOnSignal s = new StopOnSignal(err, maxWait, newLineFirst);
        Runtime.getRuntime().addShutdownHook(s.hook);
        return s;
    }

    /** True once the JVM began to shut down (a signal, or an exit elsewhere). */
    @Override
    public boolean getAsBoolean() {
        return requested;
    }

    private void onShutdown() {
        requested = true;
        err.print((newLineFirst ? System.lineSeparator() : "") + "sisma train: stopping: finishing the current step and"
                + " writing a checkpoint (kill -9 stops at once, losing the steps since the last checkpoint)"
                + System.lineSeparator());
        err.flush();
        try {
            if (!done.await(maxWait.toMillis(), TimeUnit.MILLISECONDS)) {
                err.println("sisma train: no checkpoint after " + maxWait.toSeconds() + " s; exiting without one");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The loop is done (stopped or finished): unregisters the hook, or lets a waiting one end the JVM. */
    @Override
    public void close() {
        done.countDown();
        try {
            Runtime.getRuntime().removeShutdownHook(hook);
        } catch (IllegalStateException e) {
            // shutting down: the hook is running, and now returns
        }
    }
}
