package dev.sisma.engine.cpu.internal;

import java.util.Map;
import java.util.function.Function;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;

import dev.sisma.engine.bench.BackendThreads;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;

/**
 * CPU backends at any thread count, for {@code sisma bench engine}; {@link #threads()} is what the
 * registered CPU backend is configured with (the same Config Admin PID and property).
 */
@Component(service = BackendThreads.class, configurationPid = CpuBackend.PID, configurationPolicy = ConfigurationPolicy.OPTIONAL,
        property = Backend.NAME_PROPERTY + "=cpu")
public final class CpuBackendThreads implements BackendThreads {
    private final int threads;

    @Activate
    public CpuBackendThreads(Map<String, Object> props) {
        this.threads = CpuBackend.threadsFrom(props);
    }

    @Override
    public String name() {
        return "cpu";
    }

    @Override
    public int threads() {
        return threads;
    }

    @Override
    public <T> T withThreads(int threads, Function<Backend, T> work) {
        try (CpuBackend be = new CpuBackend(threads)) {
            return work.apply(be);
        }
    }
}
