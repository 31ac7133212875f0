package dev.sisma.data.dataset;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.osgi.annotation.versioning.ProviderType;

import dev.sisma.data.internal.DatasetRegistry;
import dev.sisma.data.internal.CelebAMaskHqProvider;
import dev.sisma.data.internal.SyntheticProvider;

/**
 * The registered {@link DatasetProvider}s (an OSGi service; reference it from the trainer).
 * {@link #open} resolves what a user wrote after {@code --data}.
 */
@ProviderType
public interface Datasets {
    /** Every provider, by name. */
    List<DatasetProvider> providers();

    Optional<DatasetProvider> byName(String name);

    /**
     * Opens {@code spec}: a provider name ({@code synthetic}), {@code name:PATH} (that provider on
     * that folder), or a folder some provider {@link DatasetProvider#accepts accepts}.
     *
     * @param workingDirectory against which a relative path resolves
     * @throws dev.sisma.api.cli.InputException naming the spec when nothing can open it
     */
    Dataset open(String spec, Path workingDirectory, Split split, long seed, Map<String, String> options);

    /**
     * The folder {@link #open} would read for {@code spec} (normalized, not yet checked to exist),
     * or empty when {@code spec} names a provider that needs no folder ({@code synthetic}). A server
     * uses it to keep references inside the folder it serves datasets from.
     *
     * @since 1.1
     */
    Optional<Path> folder(String spec, Path workingDirectory);

    /** The built-in providers (CelebAMask-HQ and synthetic), for use without OSGi. */
    static Datasets builtIn() {
        return of(List.of(new CelebAMaskHqProvider(), new SyntheticProvider()));
    }

    /** A registry over the given providers, for use without OSGi. */
    static Datasets of(List<DatasetProvider> providers) {
        DatasetRegistry r = new DatasetRegistry();
        providers.forEach(r::add);
        return r;
    }
}
