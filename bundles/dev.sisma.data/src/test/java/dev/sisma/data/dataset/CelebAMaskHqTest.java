package dev.sisma.data.dataset;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.data.TestData;
import dev.sisma.data.mask.MaskFiles;

class CelebAMaskHqTest {
    @TempDir
    Path tmp;

    @Test
    void miniSetWithLabels() {
        CelebAMaskHq d = CelebAMaskHq.open(TestData.mini(), Split.TRAIN);
        assertEquals(3, d.size());
        assertEquals(CelebAMaskHq.MaskSource.LABELS, d.maskSource());
        Sample s = d.get(1, 32);
        assertEquals("1", s.id());
        assertEquals(32, s.size());
        assertEquals(3 * 32 * 32, s.image().length);
        float min = Float.MAX_VALUE;
        float max = -Float.MAX_VALUE;
        for (float v : s.image()) {
            min = Math.min(min, v);
            max = Math.max(max, v);
        }
        assertTrue(min >= -1 && max <= 1 && max - min > 1, min + ".." + max);
        assertArrayEquals(s.image(), d.get(1, 32).image(), "deterministic");
        assertEquals(MaskFiles.fit(MaskFiles.readIndex(TestData.mini().resolve("labels/1.png")), 32), s.mask());
    }

    @Test
    void skinPixelsAreSkinColouredAndBackgroundDiffers() {
        // The image and mask must line up: the mean colour of skin pixels is warm (red > blue).
        CelebAMaskHq d = CelebAMaskHq.open(TestData.mini(), Split.ALL);
        for (int i = 0; i < d.size(); i++) {
            Sample s = d.get(i, 64);
            double r = 0;
            double b = 0;
            int n = 0;
            int plane = 64 * 64;
            byte[] c = s.mask().copyOfClasses();
            for (int p = 0; p < plane; p++) {
                if (c[p] == FaceClass.SKIN.index()) {
                    r += s.image()[p];
                    b += s.image()[2 * plane + p];
                    n++;
                }
            }
            assertTrue(n > 500 && r / n > b / n + 0.1, "skin of " + s.id() + " red " + r / n + " blue " + b / n);
        }
    }

    @Test
    void officialLayoutWithPerPartMasksGivesTheSameMasks() throws IOException {
        Path root = tmp.resolve("official");
        Files.createDirectories(root);
        Files.createSymbolicLink(root.resolve("CelebA-HQ-img"), TestData.mini().resolve("CelebA-HQ-img"));
        Files.createSymbolicLink(root.resolve("CelebAMask-HQ-mask-anno"), TestData.mini().resolve("CelebAMask-HQ-mask-anno"));
        assertTrue(CelebAMaskHq.looksLike(root));
        CelebAMaskHq official = CelebAMaskHq.open(root, Split.TRAIN);
        assertEquals(CelebAMaskHq.MaskSource.PARTS, official.maskSource());
        CelebAMaskHq merged = CelebAMaskHq.open(TestData.mini(), Split.TRAIN);
        assertEquals(merged.size(), official.size());
        for (int i = 0; i < merged.size(); i++) {
            assertEquals(merged.mask(i, 512), official.mask(i, 512));
        }
    }

    @Test
    void mergedLayoutAndStandardSplit() throws IOException {
        Path root = tmp.resolve("merged");
        Files.createDirectories(root.resolve("images"));
        Files.createDirectories(root.resolve("labels"));
        int[] ids = {5, 27999, 28000, 29999};
        for (int i = 0; i < ids.length; i++) {
            Files.copy(TestData.mini().resolve("CelebA-HQ-img/" + (i % 3) + ".jpg"), root.resolve("images/" + ids[i] + ".jpg"));
            Files.copy(TestData.mini().resolve("labels/" + (i % 3) + ".png"), root.resolve("labels/" + ids[i] + ".png"));
        }
        Files.copy(TestData.mini().resolve("CelebA-HQ-img/0.jpg"), root.resolve("images/123.jpg")); // no mask: skipped
        CelebAMaskHq train = CelebAMaskHq.open(root, Split.TRAIN);
        CelebAMaskHq test = CelebAMaskHq.open(root, Split.TEST);
        assertEquals(2, train.size());
        assertEquals(5, train.id(0));
        assertEquals(27999, train.id(1));
        assertEquals(2, test.size());
        assertEquals(28000, test.id(0));
        assertEquals(29999, test.id(1));
        assertEquals(4, CelebAMaskHq.open(root, Split.ALL).size());

        Datasets all = Datasets.builtIn();
        Dataset viaRegistry = all.open("merged", tmp, Split.TEST, 0, Map.of());
        assertEquals(2, viaRegistry.size());
        Dataset named = all.open("celebamask-hq:merged", tmp, Split.TRAIN, 0, Map.of());
        assertEquals(2, named.size());
    }

    @Test
    void badFoldersGiveOneLineErrors() throws IOException {
        InputException e = assertThrows(InputException.class, () -> CelebAMaskHq.open(tmp.resolve("nope"), Split.TRAIN));
        assertTrue(e.getMessage().contains("no such directory"), e.getMessage());
        // The mini set has no id >= 28000.
        e = assertThrows(InputException.class, () -> CelebAMaskHq.open(TestData.mini(), Split.TEST));
        assertTrue(e.getMessage().contains("test split"), e.getMessage());
        Files.createDirectories(tmp.resolve("empty"));
        e = assertThrows(InputException.class,
                () -> Datasets.builtIn().open("empty", tmp, Split.TRAIN, 0, Map.of()));
        assertTrue(e.getMessage().contains("not a dataset folder"), e.getMessage());
        e = assertThrows(InputException.class,
                () -> Datasets.builtIn().open("imagenet", tmp, Split.TRAIN, 0, Map.of()));
        assertTrue(e.getMessage().startsWith("imagenet: no dataset of that name"), e.getMessage());
    }

    @Test
    void badMaskInDatasetNamesTheFile() throws IOException {
        Path root = tmp.resolve("broken");
        Files.createDirectories(root.resolve("images"));
        Files.createDirectories(root.resolve("labels"));
        Files.copy(TestData.mini().resolve("CelebA-HQ-img/0.jpg"), root.resolve("images/0.jpg"));
        Files.write(root.resolve("labels/0.png"), new byte[] {1, 2, 3});
        CelebAMaskHq d = CelebAMaskHq.open(root, Split.ALL);
        InputException e = assertThrows(InputException.class, () -> d.get(0, 16));
        assertTrue(e.getMessage().startsWith(root.resolve("labels/0.png") + ": "), e.getMessage());
    }
}
