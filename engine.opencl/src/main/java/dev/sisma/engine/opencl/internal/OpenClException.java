package dev.sisma.engine.opencl.internal;

/**
 * A failed OpenCL call, translated into one clear line for the job that hit it: what was being
 * done, on which device, the OpenCL status name and what to do about it. Never an Error: the
 * container and other jobs keep running.
 */
public final class OpenClException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure, so callers (and tests) need not parse messages. */
    public enum Kind {
        /** Device or host memory exhausted (MEM_OBJECT_ALLOCATION_FAILURE, OUT_OF_RESOURCES, ...). */
        OUT_OF_MEMORY,
        /** The device or its context is gone; the backend refuses further work until re-created. */
        DEVICE_LOST,
        /** The kernel program did not compile; the message carries the first lines of the build log. */
        BUILD,
        /** Anything else (a bug or an unsupported request). */
        OTHER
    }

    private final Kind kind;
    private final int status;

    public OpenClException(Kind kind, int status, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.status = status;
    }

    public Kind kind() {
        return kind;
    }

    /** The OpenCL status code (CL_SUCCESS = 0 when not from a call). */
    public int status() {
        return status;
    }
}
