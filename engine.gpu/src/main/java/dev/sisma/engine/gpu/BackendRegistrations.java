package dev.sisma.engine.gpu;

import java.util.ArrayList;
import java.util.Dictionary;
import java.util.Hashtable;
import java.util.List;

import org.osgi.framework.BundleContext;
import org.osgi.framework.Constants;
import org.osgi.framework.ServiceRegistration;

import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.UnavailableBackend;

/**
 * What a GPU backend component registers: each opened device as a {@link Backend} (name, ranking,
 * an optional alias), each device that cannot be used as an {@link UnavailableBackend} with its
 * one-line reason for {@code sisma info}; {@link #close} unregisters them and closes the devices.
 */
public final class BackendRegistrations {
    private final BundleContext context;
    private final List<GpuBackend<?>> opened = new ArrayList<>();
    private final List<ServiceRegistration<?>> registrations = new ArrayList<>();

    public BackendRegistrations(BundleContext context) {
        this.context = context;
    }

    /** Registers {@code backend} under its name, and also under {@code alias} when not null (Backends.ALIASES_PROPERTY). */
    public void register(GpuBackend<?> backend, int ranking, String alias) {
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Backend.NAME_PROPERTY, backend.name());
        props.put(Constants.SERVICE_RANKING, ranking);
        if (alias != null) props.put(Backends.ALIASES_PROPERTY, new String[] {alias});
        opened.add(backend);
        registrations.add(context.registerService(Backend.class, backend, props));
    }

    /** Registers why backend {@code name} is absent (one line). */
    public void unavailable(String name, String reason) {
        String why = reason.replace('\n', ' ');
        Dictionary<String, Object> props = new Hashtable<>();
        props.put(Backend.NAME_PROPERTY, name);
        registrations.add(context.registerService(UnavailableBackend.class, new UnavailableBackend() {
            @Override
            public String name() {
                return name;
            }

            @Override
            public String reason() {
                return why;
            }

            @Override
            public String toString() {
                return name + " unavailable: " + why;
            }
        }, props));
    }

    /** Unregisters everything and closes the devices opened. */
    public void close() {
        for (ServiceRegistration<?> r : registrations) {
            try {
                r.unregister();
            } catch (IllegalStateException alreadyGone) {
                // the bundle is stopping and the framework unregistered it
            }
        }
        registrations.clear();
        opened.forEach(GpuBackend::close);
        opened.clear();
    }
}
