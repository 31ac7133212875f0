package dev.sisma.ui.swt.internal.generate;

import dev.sisma.ui.swt.internal.ChangeListeners;


import dev.sisma.api.generate.Generator;

/**
 * Where the editor gets the generator service: it may come and go at any time (its bundle stopped
 * or started). Hosts (the {@code edit} command's DS reference, a service tracker in the Eclipse
 * view, a test) call {@link #set}; listeners are told on the caller's thread.
 */
public final class GeneratorSource {
    private volatile Generator generator;
    private volatile String absentReason = "no generator service is registered (is the model bundle dev.sisma.model running?)";
    private final ChangeListeners listeners = new ChangeListeners();

    /** The generator, or null when none is available. */
    public Generator current() {
        return generator;
    }

    /** Why Generate is disabled while {@link #current()} is null. */
    public String absentReason() {
        return absentReason;
    }

    public void set(Generator g) {
        generator = g;
        fire();
    }

    /** Removes {@code g} if it is the current one (a dynamic reference's unbind). */
    public void unset(Generator g) {
        if (generator == g) {
            generator = null;
            fire();
        }
    }

    public void setAbsentReason(String reason) {
        absentReason = reason;
        fire();
    }

    public void addListener(Runnable r) {
        listeners.add(r);
    }

    public void removeListener(Runnable r) {
        listeners.remove(r);
    }

    private void fire() {
        listeners.fire();
    }
}
