package dev.sisma.data;

import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real CelebAMask-HQ sample in the repository, {@code testdata/celebamask-hq-mini} (its README
 * gives the sources, class order and licence). Surefire passes the folder as {@code sisma.testdata}.
 */
public final class TestData {
    private TestData() {
    }

    public static Path mini() {
        String root = System.getProperty("sisma.testdata");
        if (root == null) {
            throw new IllegalStateException("system property sisma.testdata is not set (the parent pom sets it to <repo>/testdata)");
        }
        Path mini = Path.of(root, "celebamask-hq-mini");
        if (!Files.isDirectory(mini.resolve("labels"))) {
            throw new IllegalStateException("no CelebAMask-HQ sample in " + mini);
        }
        return mini;
    }
}
