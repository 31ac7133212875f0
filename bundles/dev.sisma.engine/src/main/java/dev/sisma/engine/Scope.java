package dev.sisma.engine;

import java.util.ArrayList;
import java.util.List;

/**
 * A lifetime region for tensors on the current thread: every tensor created while a scope is the
 * innermost open one belongs to it and is closed when the scope closes, except those passed to
 * {@link #keep}, which move to the enclosing scope (or to the caller when there is none).
 * Use it around each inference step or training step:
 * <pre>
 * try (Scope s = Scope.open()) {
 *     Tensor y = model.forward(x);
 *     return s.keep(y);
 * }
 * </pre>
 * Parameters and accumulated gradients ({@link Tensor#grad()}) never belong to a scope.
 * No finalizers: a tensor outside any scope lives until {@link Tensor#close()}.
 */
public final class Scope implements AutoCloseable {
    private static final ThreadLocal<Scope> CURRENT = new ThreadLocal<>();

    private final Scope parent;
    private final Thread thread = Thread.currentThread();
    private List<Tensor> owned = new ArrayList<>();

    private Scope(Scope parent) { this.parent = parent; }

    /** Opens a scope nested in the current one. */
    public static Scope open() {
        Scope s = new Scope(CURRENT.get());
        CURRENT.set(s);
        return s;
    }

    /** Moves {@code t} out of this scope into the enclosing one (or to the caller); returns it. */
    public Tensor keep(Tensor t) {
        // O(1): the list keeps a stale entry that close() skips because t.scope no longer points here
        if (t.scope == this && parent != null) parent.owned.add(t);
        t.scope = parent;
        return t;
    }

    /** Closes every tensor still owned, then makes the enclosing scope current. */
    @Override
    public void close() {
        if (owned == null) return;
        if (Thread.currentThread() != thread) throw new IllegalStateException("scope closed on another thread");
        if (CURRENT.get() != this) throw new IllegalStateException("scopes must close innermost first");
        List<Tensor> list = owned;
        owned = null;
        CURRENT.set(parent);
        for (Tensor t : list) if (t.scope == this) t.close();
    }

    static void register(Tensor t) {
        Scope s = CURRENT.get();
        if (s != null) { s.owned.add(t); t.scope = s; }
    }

    /** Detaches t from its scope: the caller (a leaf's grad, a parameter) owns it now. */
    static void release(Tensor t) {
        t.scope = null; // close() of the old scope skips it
    }
}
