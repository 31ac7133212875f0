package dev.sisma.data;

import java.nio.file.Files;
import java.nio.file.Path;

/** Where the shared sample data lives: {@code ../shared/data/celebamask-hq-mini} from the repository root. */
public final class TestData {
    private TestData() {
    }

    public static Path mini() {
        String prop = System.getProperty("sisma.mini");
        if (prop != null) {
            return Path.of(prop);
        }
        Path dir = Path.of("").toAbsolutePath();
        for (Path p = dir; p != null; p = p.getParent()) {
            Path candidate = p.resolveSibling("shared").resolve("data").resolve("celebamask-hq-mini");
            if (Files.isDirectory(candidate.resolve("labels"))) {
                return candidate;
            }
            candidate = p.resolve("shared").resolve("data").resolve("celebamask-hq-mini");
            if (Files.isDirectory(candidate.resolve("labels"))) {
                return candidate;
            }
        }
        throw new IllegalStateException("celebamask-hq-mini not found above " + dir + " (set -Dsisma.mini)");
    }
}
