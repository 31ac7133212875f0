package dev.sisma.ui.swt.internal;

import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/** "Something changed" listeners of a piece of editor state; told on the caller's thread. */
public final class ChangeListeners {
    private final List<Runnable> listeners = new CopyOnWriteArrayList<>();

    public void add(Runnable r) {
        listeners.add(r);
    }

    public void remove(Runnable r) {
        listeners.remove(r);
    }

    public void fire() {
        for (Runnable r : listeners) {
            r.run();
        }
    }
}
