package dev.sisma.data.dataset;

import java.nio.file.Path;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * A kind of dataset, registered as an OSGi service (third-party bundles add their own). Found by
 * {@link #name()} (e.g. {@code --data synthetic}) or, for {@code --data PATH}, by
 * {@link #accepts(Path)}.
 */
@ConsumerType
public interface DatasetProvider {
    /** Unique short name, e.g. {@code "celebamask-hq"} or {@code "synthetic"}. */
    String name();

    /** One line for listings. */
    String description();

    /** Whether {@code folder} looks like a dataset of this kind (cheap: checks names, not contents). */
    default boolean accepts(Path folder) {
        return false;
    }

    /**
     * Opens the dataset.
     *
     * @throws dev.sisma.api.cli.InputException when the location is missing or not this kind of dataset
     */
    Dataset open(DatasetRequest request);
}
