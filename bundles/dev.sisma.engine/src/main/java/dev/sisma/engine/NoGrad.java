package dev.sisma.engine;

/**
 * Inference mode for the current thread: while open, ops record no tape and keep no activations
 * for a backward pass. Nests; {@code try (var ng = NoGrad.enter()) { ... }}.
 */
public final class NoGrad implements AutoCloseable {
    private static final ThreadLocal<int[]> DEPTH = ThreadLocal.withInitial(() -> new int[1]);
    private boolean closed;

    private NoGrad() { DEPTH.get()[0]++; }

    public static NoGrad enter() { return new NoGrad(); }

    /** True when ops on this thread record gradients (no NoGrad open). */
    public static boolean gradEnabled() { return DEPTH.get()[0] == 0; }

    @Override
    public void close() {
        if (!closed) { closed = true; DEPTH.get()[0]--; }
    }
}
