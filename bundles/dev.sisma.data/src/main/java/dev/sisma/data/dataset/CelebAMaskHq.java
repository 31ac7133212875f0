package dev.sisma.data.dataset;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.data.mask.MaskFiles;

/**
 * CelebAMask-HQ on disk. Images come from {@code CelebA-HQ-img/} (the official release) or
 * {@code images/}, named {@code <id>.jpg} (or {@code .png}); masks from {@code labels/<id>.png}
 * (merged class-index PNGs) when that folder exists, else from the official per-part
 * {@code CelebAMask-HQ-mask-anno/<k>/<id 5 digits>_<part>.png}. Only ids with both an image and a mask
 * are used, in id order. The standard split: train = ids below {@value #TEST_START_ID} (28,000
 * images), test = ids from {@value #TEST_START_ID} (2,000).
 */
public final class CelebAMaskHq implements Dataset {
    /** First id of the standard test split. */
    public static final int TEST_START_ID = 28000;

    /** Where masks come from. */
    public enum MaskSource {
        /** {@code labels/<id>.png}. */
        LABELS,
        /** {@code CelebAMask-HQ-mask-anno/<k>/<id>_<part>.png}. */
        PARTS
    }

    private static final Pattern NUMERIC_IMAGE = Pattern.compile("(\\d+)\\.(jpg|jpeg|png)", Pattern.CASE_INSENSITIVE);
    private static final Pattern NUMERIC_LABEL = Pattern.compile("(\\d+)\\.png", Pattern.CASE_INSENSITIVE);
    private static final Pattern PART = Pattern.compile("(\\d+)_[a-z_]+\\.png");

    private final Path root;
    private final Split split;
    private final MaskSource maskSource;
    private final Path maskDir;
    private final int[] ids;
    private final Path[] images;
    private final Path[] labels;

    private CelebAMaskHq(Path root, Split split, MaskSource source, Path maskDir, int[] ids, Path[] images, Path[] labels) {
        this.root = root;
        this.split = split;
        this.maskSource = source;
        this.maskDir = maskDir;
        this.ids = ids;
        this.images = images;
        this.labels = labels;
    }

    /** Whether {@code root} has an image folder and a mask folder of a known layout (names only). */
    public static boolean looksLike(Path root) {
        return imageDir(root) != null && (Files.isDirectory(root.resolve("labels"))
                || Files.isDirectory(root.resolve("CelebAMask-HQ-mask-anno")));
    }

    private static Path imageDir(Path root) {
        for (String name : new String[] {"CelebA-HQ-img", "images"}) {
            if (Files.isDirectory(root.resolve(name))) {
                return root.resolve(name);
            }
        }
        return null;
    }

    /**
     * Indexes the dataset under {@code root} (lists the folders once).
     *
     * @throws InputException when {@code root} is not a CelebAMask-HQ folder or holds no pair of the split
     */
    public static CelebAMaskHq open(Path root, Split split) {
        if (!Files.isDirectory(root)) {
            throw new InputException(root + ": " + (Files.exists(root) ? "not a directory" : "no such directory")
                    + " (expected a CelebAMask-HQ folder)");
        }
        Path imageDir = imageDir(root);
        if (imageDir == null) {
            throw new InputException(root + ": no CelebA-HQ-img/ or images/ folder; not a CelebAMask-HQ dataset");
        }
        MaskSource source;
        Path maskDir;
        if (Files.isDirectory(root.resolve("labels"))) {
            source = MaskSource.LABELS;
            maskDir = root.resolve("labels");
        } else if (Files.isDirectory(root.resolve("CelebAMask-HQ-mask-anno"))) {
            source = MaskSource.PARTS;
            maskDir = root.resolve("CelebAMask-HQ-mask-anno");
        } else {
            throw new InputException(root + ": no labels/ or CelebAMask-HQ-mask-anno/ folder; not a CelebAMask-HQ dataset");
        }
        try {
            Map<Integer, Path> imageById = list(imageDir, NUMERIC_IMAGE);
            Map<Integer, Path> labelById = new TreeMap<>();
            if (source == MaskSource.LABELS) {
                labelById = list(maskDir, NUMERIC_LABEL);
            } else {
                try (Stream<Path> sub = Files.list(maskDir)) {
                    for (Path d : (Iterable<Path>) sub.filter(Files::isDirectory).sorted()::iterator) {
                        labelById.putAll(list(d, PART));
                    }
                }
            }
            TreeMap<Integer, Path[]> pairs = new TreeMap<>();
            for (Map.Entry<Integer, Path> e : imageById.entrySet()) {
                int id = e.getKey();
                boolean inSplit = switch (split) {
                    case TRAIN -> id < TEST_START_ID;
                    case TEST -> id >= TEST_START_ID;
                    case ALL -> true;
                };
                Path label = labelById.get(id);
                if (inSplit && label != null) {
                    pairs.put(id, new Path[] {e.getValue(), label});
                }
            }
            if (pairs.isEmpty()) {
                throw new InputException(root + ": no image in " + root.relativize(imageDir) + "/ with a mask in "
                        + root.relativize(maskDir) + "/ for the " + split.name().toLowerCase() + " split ("
                        + imageById.size() + " images, " + labelById.size() + " masks)");
            }
            int[] ids = new int[pairs.size()];
            Path[] images = new Path[ids.length];
            Path[] labels = new Path[ids.length];
            int i = 0;
            for (Map.Entry<Integer, Path[]> e : pairs.entrySet()) {
                ids[i] = e.getKey();
                images[i] = e.getValue()[0];
                labels[i] = e.getValue()[1];
                i++;
            }
            return new CelebAMaskHq(root, split, source, maskDir, ids, images, labels);
        } catch (IOException e) {
            throw new InputException(root + ": cannot list the dataset: " + e.getMessage(), e);
        }
    }

    /** Files of {@code dir} whose names match {@code p} (group 1 = id), by id; the first of several wins. */
    private static Map<Integer, Path> list(Path dir, Pattern p) throws IOException {
        Map<Integer, Path> byId = new TreeMap<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : (Iterable<Path>) files.sorted()::iterator) {
                Matcher m = p.matcher(f.getFileName().toString());
                if (m.matches() && m.group(1).length() < 10) {
                    byId.putIfAbsent(Integer.parseInt(m.group(1)), f);
                }
            }
        }
        return byId;
    }

    @Override
    public String description() {
        return "celebamask-hq " + root + " (" + split.name().toLowerCase() + ", " + ids.length + " images, masks from "
                + (maskSource == MaskSource.LABELS ? "labels/" : "per-part files") + ")";
    }

    @Override
    public int size() {
        return ids.length;
    }

    /** The CelebA-HQ id of sample {@code index}. */
    public int id(int index) {
        return ids[index];
    }

    public Path imageFile(int index) {
        return images[index];
    }

    public MaskSource maskSource() {
        return maskSource;
    }

    @Override
    public Sample get(int index, int size) {
        Mask mask = mask(index, size);
        float[] image = Images.toChw(ImageFiles.read(images[index]), size);
        return new Sample(Integer.toString(ids[index]), image, mask);
    }

    @Override
    public Mask mask(int index, int size) {
        Mask full = maskSource == MaskSource.LABELS ? MaskFiles.readIndex(labels[index])
                : MaskFiles.readParts(maskDir, ids[index]);
        return MaskFiles.fit(full, size);
    }
}
