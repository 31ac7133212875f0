package dev.sisma.data.mask;

import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;

/**
 * Mask files. The exchange format is a class-index PNG: 8-bit grayscale, pixel value = class index
 * 0..18 ({@link FaceClass}), as CelebAMask-HQ's {@code labels/} (512x512). Colour PNGs in the
 * CelebAMask-HQ palette are imported by nearest palette colour. The official per-part layout
 * ({@code CelebAMask-HQ-mask-anno/<k>/<id>_<part>.png}) is merged as the dataset's {@code g_mask.py}
 * does. Every read goes through {@link ImageFiles#read(Path)}; every error is an
 * {@link InputException} with one line naming the file and the problem.
 */
public final class MaskFiles {
    /** Ids per folder of the official per-part layout ({@code <k> = id / 2000}). */
    public static final int IDS_PER_PART_FOLDER = 2000;

    private MaskFiles() {
    }

    /**
     * Reads a mask in either format: an image whose pixels are all grey (r = g = b, or a grayscale
     * PNG) is a class-index mask; any other is a colour mask in the CelebAMask-HQ palette.
     */
    public static ImportedMask read(Path file) {
        return fromImage(file, ImageFiles.read(file), true);
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

    /** Reads a colour mask, mapping every pixel to the nearest palette colour (grey pixels too). */
    public static ImportedMask readColour(Path file) {
        BufferedImage img = ImageFiles.read(file);
        int w = img.getWidth();
        int h = img.getHeight();
        return MaskColours.fromRgb(w, h, img.getRGB(0, 0, w, h, null, 0, w));
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
     * error that says how many pixels have them.
     */
    public static ImportedMask fromImage(Path file, BufferedImage img, boolean allowColour) {
        int w = img.getWidth();
        int h = img.getHeight();
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
                return MaskColours.fromRgb(w, h, rgb);
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
        return annoRoot.resolve(Integer.toString(id / IDS_PER_PART_FOLDER))
                .resolve(String.format("%05d_%s.png", id, c.partName()));
    }

    /**
     * Merges the official per-part files of image {@code id} like the dataset's {@code g_mask.py}:
     * start from background, then for each class in index order every pixel whose channel 0 is not 0
     * takes that class (later parts overwrite earlier ones). Missing parts are simply absent.
     *
     * @throws InputException if no part file exists, a part file is bad, or the parts differ in size
     */
    public static Mask readParts(Path annoRoot, int id) {
        byte[] classes = null;
        int w = 0;
        int h = 0;
        Path first = null;
        for (FaceClass c : FaceClass.values()) {
            if (c == FaceClass.BACKGROUND) {
                continue;
            }
            Path f = partFile(annoRoot, id, c);
            if (!Files.exists(f)) {
                continue;
            }
            BufferedImage img = ImageFiles.read(f);
            if (classes == null) {
                w = img.getWidth();
                h = img.getHeight();
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
            throw new InputException(annoRoot.resolve(Integer.toString(id / IDS_PER_PART_FOLDER)) + ": no part files "
                    + String.format("%05d_<part>.png", id) + " for image " + id);
        }
        return new Mask(w, h, classes);
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
