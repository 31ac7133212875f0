package org.example.sisma.pairs;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.InputException;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.DatasetProvider;
import dev.sisma.data.dataset.DatasetRequest;
import dev.sisma.data.dataset.Sample;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.data.mask.MaskFiles;

/**
 * A folder of photo/mask pairs side by side: {@code NAME.jpg} (or {@code .png}) with its mask
 * {@code NAME_mask.png} (class-index or CelebAMask-HQ colours). {@code sisma train --data pairs:DIR},
 * or {@code --data DIR} for a folder that holds such pairs. Every 10th pair (by name) is the
 * test split, the rest is training.
 */
@Component(service = DatasetProvider.class)
public final class PairsProvider implements DatasetProvider {
    static final String MASK_SUFFIX = "_mask.png";

    @Override
    public String name() {
        return "pairs";
    }

    @Override
    public String description() {
        return "photo/mask pairs in one folder: NAME.jpg|png with NAME_mask.png (an example plugin)";
    }

    @Override
    public boolean accepts(Path folder) {
        try (Stream<Path> files = Files.list(folder)) {
            return files.anyMatch(f -> f.getFileName().toString().endsWith(MASK_SUFFIX));
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public Dataset open(DatasetRequest request) {
        Path folder = request.location();
        if (folder == null || !Files.isDirectory(folder)) {
            throw new InputException("pairs: " + folder + " is not a folder");
        }
        List<Path[]> all;
        try (Stream<Path> files = Files.list(folder)) {
            all = files.filter(f -> f.getFileName().toString().endsWith(MASK_SUFFIX)).sorted()
                    .map(m -> new Path[] {photoOf(m), m}).filter(p -> p[0] != null).toList();
        } catch (IOException e) {
            throw new InputException("pairs: cannot list " + folder + ": " + e.getMessage());
        }
        Split split = request.split();
        List<Path[]> pairs = java.util.stream.IntStream.range(0, all.size())
                .filter(i -> split == Split.ALL || (i % 10 == 9) == (split == Split.TEST)).mapToObj(all::get).toList();
        if (pairs.isEmpty()) {
            throw new InputException("pairs: " + folder + " has no NAME.jpg|png with NAME" + MASK_SUFFIX + " for the "
                    + request.split().name().toLowerCase() + " split");
        }
        String description = "pairs " + folder + " (" + request.split().name().toLowerCase() + ", " + pairs.size() + ")";
        return new Dataset() {
            @Override
            public String description() {
                return description;
            }

            @Override
            public int size() {
                return pairs.size();
            }

            @Override
            public Sample get(int index, int size) {
                Path[] p = pairs.get(index);
                float[] image = Images.toChw(ImageFiles.read(p[0]), size);
                return new Sample(stem(p[1]), image, MaskFiles.read(p[1], size).mask());
            }
        };
    }

    /** The photo beside {@code mask}: NAME.jpg, NAME.jpeg or NAME.png; null when there is none. */
    private static Path photoOf(Path mask) {
        String stem = stem(mask);
        for (String ext : List.of(".jpg", ".jpeg", ".png")) {
            Path photo = mask.resolveSibling(stem + ext);
            if (Files.isRegularFile(photo)) {
                return photo;
            }
        }
        return null;
    }

    private static String stem(Path mask) {
        String n = mask.getFileName().toString();
        return n.substring(0, n.length() - MASK_SUFFIX.length());
    }
}
