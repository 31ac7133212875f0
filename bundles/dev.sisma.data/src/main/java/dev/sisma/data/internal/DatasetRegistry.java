package dev.sisma.data.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentSkipListMap;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.InputException;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.DatasetProvider;
import dev.sisma.data.dataset.DatasetRequest;
import dev.sisma.data.dataset.Datasets;
import dev.sisma.data.dataset.Split;

/** The {@link Datasets} service: tracks every {@link DatasetProvider} service by name. */
@Component(service = Datasets.class)
public final class DatasetRegistry implements Datasets {
    private final Map<String, DatasetProvider> providers = new ConcurrentSkipListMap<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    public void add(DatasetProvider p) {
        providers.put(p.name(), p);
    }

    public void remove(DatasetProvider p) {
        providers.remove(p.name(), p);
    }

    @Override
    public List<DatasetProvider> providers() {
        return List.copyOf(providers.values());
    }

    @Override
    public Optional<DatasetProvider> byName(String name) {
        return Optional.ofNullable(providers.get(name));
    }

    @Override
    public Optional<Path> folder(String spec, Path workingDirectory) {
        if (providers.containsKey(spec)) {
            return Optional.empty();
        }
        int colon = spec.indexOf(':');
        String path = colon > 0 && providers.containsKey(spec.substring(0, colon)) ? spec.substring(colon + 1) : spec;
        return Optional.of(workingDirectory.resolve(path).normalize());
    }

    @Override
    public Dataset open(String spec, Path workingDirectory, Split split, long seed, Map<String, String> options) {
        Optional<Path> location = folder(spec, workingDirectory);
        if (location.isEmpty()) {
            return providers.get(spec).open(new DatasetRequest(null, split, seed, options));
        }
        Path folder = location.get();
        int colon = spec.indexOf(':');
        if (colon > 0 && providers.containsKey(spec.substring(0, colon))) {
            return providers.get(spec.substring(0, colon)).open(new DatasetRequest(folder, split, seed, options));
        }
        if (!Files.isDirectory(folder)) {
            throw new InputException(spec + ": no dataset of that name (" + String.join(", ", providers.keySet())
                    + ") and no such folder");
        }
        List<String> names = new ArrayList<>();
        for (DatasetProvider p : providers.values()) {
            if (p.accepts(folder)) {
                return p.open(new DatasetRequest(folder, split, seed, options));
            }
            names.add(p.name());
        }
        throw new InputException(folder + ": not a dataset folder any provider recognises (" + String.join(", ", names)
                + "; CelebAMask-HQ needs CelebA-HQ-img/ or images/ beside labels/ or CelebAMask-HQ-mask-anno/)");
    }
}
