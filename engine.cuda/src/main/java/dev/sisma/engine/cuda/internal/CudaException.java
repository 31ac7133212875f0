package dev.sisma.engine.cuda.internal;

/**
 * A failed CUDA driver call, translated into one clear line for the job that hit it: what was
 * being done, on which device, the CUresult name and what to do about it. Never an Error: the
 * container and other jobs keep running. (OpenClException is its OpenCL twin.)
 */
public final class CudaException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** What kind of failure, so callers (and tests) need not parse messages. */
    public enum Kind {
        /** Device memory exhausted (CUDA_ERROR_OUT_OF_MEMORY). */
        OUT_OF_MEMORY,
        /** A sticky error (illegal address, launch failure, ECC, ...): the context is unusable; the backend refuses further work. */
        DEVICE_LOST,
        /** Anything else (a bug or an unsupported request). */
        OTHER
    }

    private final Kind kind;
    private final int result;

    public CudaException(Kind kind, int result, String message) {
        super(message);
        this.kind = kind;
        this.result = result;
    }

    public Kind kind() {
        return kind;
    }

    /** The CUresult code (CUDA_SUCCESS = 0 when not from a call). */
    public int result() {
        return result;
    }
}
