package dev.sisma.data.dataset;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.Test;

/** What a dataset reference names: a provider alone, a provider on a folder, or a folder. */
class DatasetsTest {
    private final Datasets datasets = Datasets.builtIn();
    private final Path root = Path.of(System.getProperty("sisma.testdata"));

    @Test
    void aNamedProviderNeedsNoFolderAndAPathResolvesAgainstTheWorkingDirectory() {
        assertEquals(Optional.empty(), datasets.folder("synthetic", root));
        Path mini = root.resolve("celebamask-hq-mini");
        assertEquals(Optional.of(mini), datasets.folder("celebamask-hq:celebamask-hq-mini", root));
        assertEquals(Optional.of(mini), datasets.folder("celebamask-hq-mini/labels/..", root));
        assertEquals(Optional.of(root.getParent()), datasets.folder("celebamask-hq:..", root));
        assertEquals(3, datasets.open("celebamask-hq:celebamask-hq-mini", root, Split.ALL, 0, Map.of()).size());
        assertTrue(datasets.open("synthetic", root, Split.TEST, 0, Map.of("count", "5")).size() == 5);
    }
}
