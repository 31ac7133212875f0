package dev.sisma.data.internal;

import org.osgi.service.component.annotations.Component;

import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.DatasetProvider;
import dev.sisma.data.dataset.DatasetRequest;
import dev.sisma.data.synth.SyntheticDataset;

/** {@code --data synthetic}: procedural faces; option {@code count} sets the number of samples. */
@Component(service = DatasetProvider.class)
public final class SyntheticProvider implements DatasetProvider {
    public static final String NAME = "synthetic";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "procedural synthetic faces from the seed (option count; default " + SyntheticDataset.DEFAULT_TRAIN_COUNT
                + " train / " + SyntheticDataset.DEFAULT_TEST_COUNT + " test)";
    }

    @Override
    public Dataset open(DatasetRequest request) {
        int fallback = request.split() == dev.sisma.data.dataset.Split.TEST ? SyntheticDataset.DEFAULT_TEST_COUNT
                : SyntheticDataset.DEFAULT_TRAIN_COUNT;
        return new SyntheticDataset(request.seed(), request.split(), request.intOption("count", fallback));
    }
}
