package dev.sisma.data.mask;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;

/**
 * Mask files. The exchange format is a class-index PNG: 8-bit grayscale, pixel value = class index
 * 0..18 ({@link FaceClass}), as CelebAMask-HQ's {@code labels/} (512x512). Colour PNGs in the
 * CelebAMask-HQ palette are imported by nearest palette colour. The official per-part layout
 * ({@code CelebAMask-HQ-mask-anno/<k>/<id>_<part>.png}) is merged as the dataset's {@code g_mask.py}
 * does; {@link #read(Path)} given one part file reads its whole entry. Every read goes through
 * {@link ImageFiles#read(Path)}; every error is an {@link InputException} with one line naming the
 * file and the problem. A mask file must be at least {@value #MIN_SIZE} pixels on each side, and a
 * colour mask may have at most {@value #MAX_FAR_PERCENT}% of its pixels far from every palette
 * colour (antialiased edges; a photo has most of its pixels far).
 */
public final class MaskFiles {
    /** Ids per folder of the official per-part layout ({@code <k> = id / 2000}). */
    public static final int IDS_PER_PART_FOLDER = 2000;
    /**
     * Smallest width and height of a mask file. Below 16x16 a face's small parts (eyes, brows,
     * lips) have no pixels left, and the model's 2x2 patches see almost nothing of the layout.
     */
    public static final int MIN_SIZE = 16;
    /**
     * Largest share, in percent, of a colour mask's pixels that may be far from every palette
     * colour ({@link MaskColours#FAR_DISTANCE}). Antialiased or resized masks have a few such edge
     * pixels; a photo or a mask in another palette has far more.
     */
    public static final int MAX_FAR_PERCENT = 5;

    /** {@code <id>_<part>.png}: a file of the official per-part layout (when the part name is a class). */
    private static final Pattern PART_FILE = Pattern.compile("(\\d+)_([a-z_]+)\\.png");

    /** One entry of the per-part layout: the folder holding its part files and the image id. */
    public record PartEntry(Path folder, int id) {
    }

    private MaskFiles() {
    }

    /**
     * Reads a mask in any format: a part file {@code <id>_<part>.png} of the per-part layout gives
     * its whole entry (the parts beside it merged, see {@link #readParts(Path, int)}); an image whose
     * pixels are all grey (r = g = b, or a grayscale PNG) is a class-index mask; any other is a
     * colour mask in the CelebAMask-HQ palette.
     *
     * @throws InputException naming the file and the problem: not an image, too small, class values
     *         above 18, or a colour image with more than {@value #MAX_FAR_PERCENT}% of its pixels
     *         far from every palette colour
     */
    public static ImportedMask read(Path file) {
        Optional<PartEntry> entry = partEntry(file);
        if (entry.isPresent()) {
            return new ImportedMask(readEntry(entry.get()), false, 0);
        }
        return fromImage(file, ImageFiles.read(file), true);
    }

    /**
     * The per-part entry {@code file} belongs to, when its name is {@code <id>_<part>.png} with a
     * {@link FaceClass#partName() part name} of CelebAMask-HQ (e.g. {@code 00001_hair.png}).
     */
    public static Optional<PartEntry> partEntry(Path file) {
        Path name = file.getFileName();
        if (name == null) {
            return Optional.empty();
        }
        Matcher m = PART_FILE.matcher(name.toString());
        if (!m.matches() || FaceClass.byPartName(m.group(2)) == null || m.group(1).length() > 9) {
            return Optional.empty();
        }
        Path folder = file.toAbsolutePath().getParent();
        return Optional.of(new PartEntry(folder, Integer.parseInt(m.group(1))));
    }

    /**
     * The masks of a folder for a batch: its {@code .png} files by name, a per-part entry once (its
     * first part file stands for the whole entry).
     *
     * @throws InputException naming the folder: not a folder, unreadable, or without a {@code .png}
     */
    public static List<Path> inFolder(Path dir) {
        if (!Files.isDirectory(dir)) {
            throw new InputException(dir + ": not a folder");
        }
        try (Stream<Path> s = Files.list(dir)) {
            Set<PartEntry> entries = new HashSet<>();
            List<Path> masks = s.filter(p -> p.getFileName().toString().toLowerCase(Locale.ROOT).endsWith(".png")).sorted()
                    .filter(p -> partEntry(p).map(entries::add).orElse(true)).toList();
            if (masks.isEmpty()) {
                throw new InputException(dir + ": no .png masks in this folder");
            }
            return masks;
        } catch (IOException e) {
            throw new InputException(dir + ": cannot list the folder: " + e.getMessage(), e);
        }
    }

    /** The name a mask's outputs take: the file name without its extension, or the entry id of a part file. */
    public static String outputName(Path file) {
        Optional<PartEntry> entry = partEntry(file);
        if (entry.isPresent()) {
            return String.format("%05d", entry.get().id());
        }
        String n = file.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot > 0 ? n.substring(0, dot) : n;
    }

    /** {@link #read(Path)}, then {@link #fit(Mask, int) fitted} to {@code size x size}. */
    public static ImportedMask read(Path file, int size) {
        ImportedMask m = read(file);
        return new ImportedMask(fit(m.mask(), size), m.fromColour(), m.farPixels());
    }

    /** Reads a class-index mask; refuses a colour image. */
    public static Mask readIndex(Path file) {
        return fromImage(file, ImageFiles.read(file), false).mask();
    }

    /**
     * Reads a colour mask, mapping every pixel to the nearest palette colour (grey pixels too);
     * refuses it as {@link #read(Path)} does when too small or too far from the palette.
     */
    public static ImportedMask readColour(Path file) {
        BufferedImage img = ImageFiles.read(file);
        checkSize(file, img.getWidth(), img.getHeight());
        int w = img.getWidth();
        int h = img.getHeight();
        return checkPalette(file, MaskColours.fromRgb(w, h, img.getRGB(0, 0, w, h, null, 0, w)));
    }

    private static void checkSize(Path file, int w, int h) {
        if (w < MIN_SIZE || h < MIN_SIZE) {
            throw new InputException(file + ": mask is " + w + "x" + h + " pixels; a mask needs at least " + MIN_SIZE
                    + "x" + MIN_SIZE + " (smaller has no room for a face's eyes, brows and lips)");
        }
    }

    private static ImportedMask checkPalette(Path file, ImportedMask m) {
        long total = (long) m.mask().width() * m.mask().height();
        if (m.farPixels() * 100 > total * MAX_FAR_PERCENT) {
            double percent = 100.0 * m.farPixels() / total;
            throw new InputException(file + ": " + String.format(Locale.ROOT, percent < 10 ? "%.1f" : "%.0f", percent)
                    + "% of pixels are far from every CelebAMask-HQ palette colour (limit " + MAX_FAR_PERCENT
                    + "%); not a colour mask (a photo, or another palette?)");
        }
        return m;
    }

    /**
     * The mask at the model's resolution: center-cropped to a square (as the datasets crop their
     * images) and resized nearest-neighbour, the only resampling that keeps class indices valid.
     */
    public static Mask fit(Mask mask, int size) {
        if (size <= 0) {
            throw new IllegalArgumentException("size must be positive, got " + size);
        }
        int w = mask.width();
        int h = mask.height();
        if (w != h) {
            int s = Math.min(w, h);
            int x0 = (w - s) / 2;
            int y0 = (h - s) / 2;
            byte[] src = mask.copyOfClasses();
            byte[] dst = new byte[s * s];
            for (int y = 0; y < s; y++) {
                System.arraycopy(src, (y + y0) * w + x0, dst, y * s, s);
            }
            mask = new Mask(s, s, dst);
        }
        return mask.resizeNearest(size, size);
    }

    /**
     * The mask of a decoded image. Grey images give class indices directly; values above 18 are an
     * error that says how many pixels have them. Too small an image, or a colour image too far from
     * the palette, is refused (see the class comment).
     */
    public static ImportedMask fromImage(Path file, BufferedImage img, boolean allowColour) {
        int w = img.getWidth();
        int h = img.getHeight();
        checkSize(file, w, h);
        int[] values;
        boolean grey = !(img.getColorModel() instanceof IndexColorModel) && img.getColorModel().getNumColorComponents() == 1;
        if (grey) {
            // Raw samples: getRGB would apply the grey colour space's gamma to the class indices.
            values = img.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
        } else {
            int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
            boolean allGrey = true;
            for (int p : rgb) {
                int r = (p >> 16) & 0xFF;
                if (r != ((p >> 8) & 0xFF) || r != (p & 0xFF)) {
                    allGrey = false;
                    break;
                }
            }
            if (!allGrey) {
                if (!allowColour) {
                    throw new InputException(file + ": is a colour image, not a class-index mask (8-bit grey, values 0.."
                            + (FaceClass.COUNT - 1) + ")");
                }
                return checkPalette(file, MaskColours.fromRgb(w, h, rgb));
            }
            values = rgb;
            for (int i = 0; i < values.length; i++) {
                values[i] &= 0xFF;
            }
        }
        byte[] classes = new byte[values.length];
        long bad = 0;
        int max = 0;
        for (int i = 0; i < values.length; i++) {
            int v = values[i];
            if (v >= FaceClass.COUNT) {
                bad++;
                max = Math.max(max, v);
            } else {
                classes[i] = (byte) v;
            }
        }
        if (bad > 0) {
            throw new InputException(file + ": " + bad + " of " + values.length + " pixels have class values above "
                    + (FaceClass.COUNT - 1) + " (largest " + max + "); a mask holds class indices 0.."
                    + (FaceClass.COUNT - 1) + (max == 255 ? " (is this a 0/255 part mask or a colour image?)" : ""));
        }
        return new ImportedMask(new Mask(w, h, classes), false, 0);
    }

    /** The mask as an 8-bit grey image whose pixel values are the class indices. */
    public static BufferedImage toIndexImage(Mask mask) {
        BufferedImage img = new BufferedImage(mask.width(), mask.height(), BufferedImage.TYPE_BYTE_GRAY);
        WritableRaster r = img.getRaster();
        r.setDataElements(0, 0, mask.width(), mask.height(), mask.copyOfClasses());
        return img;
    }

    /** Writes a class-index PNG (8-bit grey, values 0..18), atomically. */
    public static void writeIndex(Mask mask, Path file) throws IOException {
        ImageFiles.writePng(toIndexImage(mask), file);
    }

    /** Writes the mask as a colour PNG in the CelebAMask-HQ palette, atomically. */
    public static void writeColour(Mask mask, Path file) throws IOException {
        ImageFiles.writePng(MaskColours.render(mask), file);
    }

    /** The part file of class {@code c} for image {@code id} under an official {@code CelebAMask-HQ-mask-anno} folder. */
    public static Path partFile(Path annoRoot, int id, FaceClass c) {
        return annoRoot.resolve(Integer.toString(id / IDS_PER_PART_FOLDER)).resolve(partFileName(id, c));
    }

    /**
     * Merges the official per-part files of image {@code id} like the dataset's {@code g_mask.py}:
     * start from background, then for each class in index order every pixel whose channel 0 is not 0
     * takes that class (later parts overwrite earlier ones). Missing parts are simply absent.
     *
     * @throws InputException if no part file exists, a part file is bad, or the parts differ in size
     */
    public static Mask readParts(Path annoRoot, int id) {
        return readEntry(new PartEntry(annoRoot.resolve(Integer.toString(id / IDS_PER_PART_FOLDER)), id));
    }

    /**
     * Merges the part files {@code <id>_<part>.png} of one entry found in {@code entry.folder()},
     * as {@link #readParts(Path, int)} does.
     *
     * @throws InputException if no part file exists, a part file is bad, or the parts differ in size
     */
    public static Mask readEntry(PartEntry entry) {
        byte[] classes = null;
        int w = 0;
        int h = 0;
        Path first = null;
        for (FaceClass c : FaceClass.values()) {
            if (c == FaceClass.BACKGROUND) {
                continue;
            }
            Path f = entry.folder().resolve(partFileName(entry.id(), c));
            if (!Files.exists(f)) {
                continue;
            }
            BufferedImage img = ImageFiles.read(f);
            if (classes == null) {
                w = img.getWidth();
                h = img.getHeight();
                checkSize(f, w, h);
                classes = new byte[w * h];
                first = f;
            } else if (img.getWidth() != w || img.getHeight() != h) {
                throw new InputException(f + ": part is " + img.getWidth() + "x" + img.getHeight() + " but " + first
                        + " is " + w + "x" + h);
            }
            int[] ch0 = channel0(img);
            byte k = (byte) c.index();
            for (int i = 0; i < ch0.length; i++) {
                if (ch0[i] != 0) {
                    classes[i] = k;
                }
            }
        }
        if (classes == null) {
            throw new InputException(entry.folder() + ": no part files "
                    + String.format("%05d_<part>.png", entry.id()) + " for image " + entry.id());
        }
        return new Mask(w, h, classes);
    }

    private static String partFileName(int id, FaceClass c) {
        return String.format("%05d_%s.png", id, c.partName());
    }

    private static int[] channel0(BufferedImage img) {
        int w = img.getWidth();
        int h = img.getHeight();
        if (img.getColorModel() instanceof IndexColorModel) {
            int[] rgb = img.getRGB(0, 0, w, h, null, 0, w);
            for (int i = 0; i < rgb.length; i++) {
                rgb[i] = (rgb[i] >> 16) & 0xFF;
            }
            return rgb;
        }
        // Raster band 0 is red (or grey) whatever the byte layout (BGR, ABGR) of the buffer.
        return img.getRaster().getSamples(0, 0, w, h, 0, (int[]) null);
    }
}
