package dev.sisma.data.internal;

import java.nio.file.Path;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.InputException;
import dev.sisma.data.dataset.CelebAMaskHq;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.DatasetProvider;
import dev.sisma.data.dataset.DatasetRequest;

/** CelebAMask-HQ from a folder in the official or merged layout. */
@Component(service = DatasetProvider.class)
public final class CelebAMaskHqProvider implements DatasetProvider {
    public static final String NAME = "celebamask-hq";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "CelebAMask-HQ (CelebA-HQ-img/ or images/, with labels/ or CelebAMask-HQ-mask-anno/), 28000/2000 split";
    }

    @Override
    public boolean accepts(Path folder) {
        return CelebAMaskHq.looksLike(folder);
    }

    @Override
    public Dataset open(DatasetRequest request) {
        if (request.location() == null) {
            throw new InputException(NAME + ": needs a folder (--data PATH or --data " + NAME + ":PATH)");
        }
        return CelebAMaskHq.open(request.location(), request.split());
    }
}
