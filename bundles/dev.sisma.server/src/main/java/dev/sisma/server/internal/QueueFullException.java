package dev.sisma.server.internal;

/** The queue holds as many jobs as it may; the client should retry after {@link #retryAfterSeconds()}. */
final class QueueFullException extends Exception {
    private static final long serialVersionUID = 1L;
    private final int retryAfterSeconds;

    QueueFullException(int queued, int retryAfterSeconds) {
        super("the queue is full (" + queued + " jobs waiting); retry in " + retryAfterSeconds + " s");
        this.retryAfterSeconds = retryAfterSeconds;
    }

    int retryAfterSeconds() {
        return retryAfterSeconds;
    }
}
