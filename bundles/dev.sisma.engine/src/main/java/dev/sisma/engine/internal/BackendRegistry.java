package dev.sisma.engine.internal;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

import org.osgi.framework.Constants;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Modified;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.HostFallback;

/** Tracks every {@link Backend} service (dynamic, greedy) and picks the one in use. */
@Component(configurationPid = Backends.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL)
public final class BackendRegistry implements Backends {

    @ObjectClassDefinition(name = "sisma backends")
    public @interface Config {
        @AttributeDefinition(description = "Name of the backend to use when it is registered (cpu, opencl, cuda); empty: highest ranking")
        String preferred() default "";
    }

    /** Ordered by ranking (descending), then service id (ascending), as OSGi orders services. */
    private final Map<Entry, Backend> backends = new ConcurrentSkipListMap<>(
            Comparator.comparingInt(Entry::ranking).reversed().thenComparingLong(Entry::id));
    private volatile String preferred = "";

    /** Map key: ordering by ranking and id only; carries the service's aliases for {@link #byName}. */
    private record Entry(int ranking, long id, List<String> aliases) {
        static Entry of(Map<String, Object> props) {
            Object r = props.get(Constants.SERVICE_RANKING);
            Object a = props.get(ALIASES_PROPERTY);
            List<String> aliases = a instanceof String s ? List.of(s) : a instanceof String[] ss ? List.of(ss) : List.of();
            return new Entry(r instanceof Integer i ? i : 0, (Long) props.get(Constants.SERVICE_ID), aliases);
        }
    }

    @Activate
    @Modified
    void configure(Config config) {
        preferred = config.preferred() == null ? "" : config.preferred().trim();
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = org.osgi.service.component.annotations.ReferencePolicyOption.GREEDY)
    void addBackend(Backend backend, Map<String, Object> props) {
        // a backend that cannot run some op gets the rest of the engine's ops moved for it (ggml's
        // scheduler fallback): those ops run on a registered backend that runs everything
        backends.put(Entry.of(props), HostFallback.needed(backend)
                ? new HostFallback(backend, () -> host(backend), note -> System.err.println("sisma: " + note))
                : backend);
    }

    /** The highest-ranking registered backend, other than {@code device}, that supports every op. */
    private Backend host(Backend device) {
        return backends.values().stream()
                .filter(b -> !(b instanceof HostFallback) && b != device)
                .findFirst()
                .orElseThrow(() -> new IllegalStateException("backend " + device.name()
                        + " does not support every op and no other backend is registered to run the rest (the cpu backend does)"));
    }

    void removeBackend(Backend backend, Map<String, Object> props) {
        backends.remove(Entry.of(props));
    }

    @Override
    public List<Backend> all() {
        return new ArrayList<>(backends.values());
    }

    @Override
    public Optional<Backend> current() {
        List<Backend> all = all();
        return byName(preferred).or(() -> all.stream().findFirst());
    }

    @Override
    public Optional<Backend> byName(String name) {
        return backends.entrySet().stream()
                .filter(e -> e.getValue().name().equals(name) || e.getKey().aliases().contains(name))
                .map(Map.Entry::getValue).findFirst();
    }

    @Override
    public String preferred() {
        return preferred.isEmpty() ? null : preferred;
    }
}
