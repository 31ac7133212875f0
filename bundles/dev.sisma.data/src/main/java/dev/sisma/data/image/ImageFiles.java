package dev.sisma.data.image;

import java.awt.image.BufferedImage;
import java.awt.image.RenderedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.AccessDeniedException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.zip.CRC32;

import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.ImageWriter;
import javax.imageio.stream.ImageInputStream;
import javax.imageio.stream.MemoryCacheImageInputStream;
import javax.imageio.stream.MemoryCacheImageOutputStream;

import dev.sisma.api.cli.InputException;

/**
 * Reads and writes image files safely. Every image the project takes as input goes through
 * {@link #read(Path)}: it refuses a directory, an empty file, a file that is not an image, a header
 * that claims more than {@value #MAX_DIMENSION} pixels on a side (checked on the header bytes,
 * before anything is decoded), a PNG with a bad chunk CRC or no IEND (truncated: ImageIO may
 * silently return partial pixels), and a JPEG that ends early. Each refusal is an
 * {@link InputException} whose one-line message names the file and the problem.
 *
 * <p>Writes go to a temporary file in the target's folder and are renamed over the target, so a
 * reader never sees a half-written file.
 */
public final class ImageFiles {
    /** Largest width or height accepted from an image header. */
    public static final int MAX_DIMENSION = 16384;
    /** Largest file accepted (a 16384x16384 RGBA PNG stored uncompressed is about this size). */
    public static final long MAX_FILE_BYTES = 1L << 30;

    private static final byte[] PNG_SIGNATURE = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};

    private ImageFiles() {
    }

    /** The format of an image file, as its first bytes say. */
    public enum Format {
        PNG, JPEG, OTHER
    }

    /** What an image header says, read without decoding any pixel. */
    public record Header(Format format, int width, int height) {
    }

    /**
     * Reads an image file completely, after checking it (see the class comment).
     *
     * @throws InputException naming the file and the problem
     */
    public static BufferedImage read(Path file) {
        byte[] bytes = readBytes(file);
        Header h = header(file, bytes);
        return decode(file, bytes, h);
    }

    /**
     * The header of an image file: its format and size, checked against the limits, without
     * decoding pixels. For PNG the whole chunk structure (CRCs, IEND) is verified too.
     */
    public static Header probe(Path file) {
        return header(file, readBytes(file));
    }

    /** The bytes of a file meant to be an image, refusing a missing file, a directory and an empty file. */
    static byte[] readBytes(Path file) {
        if (Files.isDirectory(file)) {
            throw new InputException(file + ": is a directory, not an image file");
        }
        try {
            long size = Files.size(file);
            if (size == 0) {
                throw new InputException(file + ": empty file, not an image");
            }
            if (size > MAX_FILE_BYTES) {
                throw new InputException(file + ": file of " + size + " bytes is larger than the " + MAX_FILE_BYTES
                        + "-byte limit for images");
            }
            return Files.readAllBytes(file);
        } catch (NoSuchFileException e) {
            throw new InputException(file + ": no such file");
        } catch (AccessDeniedException e) {
            throw new InputException(file + ": permission denied");
        } catch (IOException e) {
            throw new InputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    static Header header(Path file, byte[] b) {
        Header h;
        if (startsWith(b, PNG_SIGNATURE)) {
            h = pngHeader(file, b);
        } else if (b.length >= 3 && (b[0] & 0xFF) == 0xFF && (b[1] & 0xFF) == 0xD8 && (b[2] & 0xFF) == 0xFF) {
            h = jpegHeader(file, b);
        } else {
            h = otherHeader(file, b);
        }
        if (h.width() <= 0 || h.height() <= 0) {
            throw new InputException(file + ": image header claims an empty " + h.width() + "x" + h.height() + " image");
        }
        if (h.width() > MAX_DIMENSION || h.height() > MAX_DIMENSION) {
            throw new InputException(file + ": image header claims " + Integer.toUnsignedString(h.width()) + "x"
                    + Integer.toUnsignedString(h.height()) + " pixels, more than the " + MAX_DIMENSION + "x"
                    + MAX_DIMENSION + " limit");
        }
        return h;
    }

    /**
     * Walks every PNG chunk: the first must be IHDR, every CRC must match and the last must be IEND.
     * A file cut short fails here instead of decoding to an image with missing rows.
     */
    private static Header pngHeader(Path file, byte[] b) {
        int pos = PNG_SIGNATURE.length;
        int width = -1;
        int height = -1;
        boolean first = true;
        CRC32 crc = new CRC32();
        while (true) {
            if (pos + 8 > b.length) {
                throw new InputException(file + ": truncated PNG (ends after " + b.length + " bytes, before the IEND chunk)");
            }
            long length = readInt(b, pos) & 0xFFFFFFFFL;
            String type = new String(b, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
            if (first) {
                if (!type.equals("IHDR") || length != 13) {
                    throw new InputException(file + ": corrupt PNG (first chunk is not a 13-byte IHDR)");
                }
                if (pos + 8 + 8 > b.length) {
                    throw new InputException(file + ": truncated PNG (header cut short)");
                }
                width = readInt(b, pos + 8);
                height = readInt(b, pos + 12);
                // Size first, so an oversized claim is reported as such even if the rest is garbage.
                if (Integer.toUnsignedLong(width) > MAX_DIMENSION || Integer.toUnsignedLong(height) > MAX_DIMENSION) {
                    throw new InputException(file + ": image header claims " + Integer.toUnsignedString(width) + "x"
                            + Integer.toUnsignedString(height) + " pixels, more than the " + MAX_DIMENSION + "x"
                            + MAX_DIMENSION + " limit");
                }
                first = false;
            }
            if (pos + 12 + length > b.length) {
                throw new InputException(file + ": truncated PNG (chunk " + printable(type) + " at byte " + pos
                        + " runs past the end of the file)");
            }
            crc.reset();
            crc.update(b, pos + 4, (int) (4 + length));
            int expected = readInt(b, (int) (pos + 8 + length));
            if ((int) crc.getValue() != expected) {
                throw new InputException(file + ": corrupt PNG (CRC mismatch in chunk " + printable(type) + " at byte "
                        + pos + ")");
            }
            pos = (int) (pos + 12 + length);
            if (type.equals("IEND")) {
                return new Header(Format.PNG, width, height);
            }
        }
    }

    /** Scans JPEG markers up to the first start-of-frame, which holds the size. */
    private static Header jpegHeader(Path file, byte[] b) {
        int pos = 2;
        while (pos < b.length) {
            if ((b[pos] & 0xFF) != 0xFF) {
                throw new InputException(file + ": corrupt JPEG (no marker at byte " + pos + ")");
            }
            while (pos < b.length && (b[pos] & 0xFF) == 0xFF) {
                pos++; // fill bytes
            }
            if (pos >= b.length) {
                break;
            }
            int marker = b[pos++] & 0xFF;
            if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
                continue; // markers without a length
            }
            if (marker == 0xD9 || marker == 0xDA) {
                throw new InputException(file + ": corrupt JPEG (no frame header before the image data)");
            }
            if (pos + 2 > b.length) {
                break;
            }
            int length = ((b[pos] & 0xFF) << 8) | (b[pos + 1] & 0xFF);
            if (length < 2) {
                throw new InputException(file + ": corrupt JPEG (segment length " + length + " at byte " + pos + ")");
            }
            boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
            if (sof) {
                if (pos + 7 > b.length) {
                    break;
                }
                int height = ((b[pos + 3] & 0xFF) << 8) | (b[pos + 4] & 0xFF);
                int width = ((b[pos + 5] & 0xFF) << 8) | (b[pos + 6] & 0xFF);
                return new Header(Format.JPEG, width, height);
            }
            pos += length;
        }
        throw new InputException(file + ": truncated JPEG (ends before its frame header)");
    }

    /** Other formats ImageIO knows (BMP, GIF, ...): its reader parses only the header for the size. */
    private static Header otherHeader(Path file, byte[] b) {
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(b))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InputException(file + ": not an image (not PNG, JPEG or another format Java can read)");
            }
            ImageReader r = readers.next();
            try {
                r.setInput(in, true, true);
                return new Header(Format.OTHER, r.getWidth(0), r.getHeight(0));
            } finally {
                r.dispose();
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof InputException ie) {
                throw ie;
            }
            throw new InputException(file + ": corrupt image header (" + oneLine(e) + ")", e);
        }
    }

    private static BufferedImage decode(Path file, byte[] b, Header h) {
        String what = switch (h.format()) {
            case PNG -> "PNG";
            case JPEG -> "JPEG";
            case OTHER -> "image";
        };
        try (ImageInputStream in = new MemoryCacheImageInputStream(new ByteArrayInputStream(b))) {
            Iterator<ImageReader> readers = ImageIO.getImageReaders(in);
            if (!readers.hasNext()) {
                throw new InputException(file + ": not an image Java can decode");
            }
            ImageReader r = readers.next();
            List<String> warnings = new ArrayList<>();
            try {
                r.setInput(in, true, true);
                // A JPEG cut short decodes with a warning ("Premature end of JPEG file") and grey rows.
                r.addIIOReadWarningListener((source, warning) -> warnings.add(warning));
                BufferedImage img = r.read(0);
                // Only JPEG: a PNG's structure is already verified chunk by chunk, and its reader also
                // warns about harmless ancillary chunks.
                if (h.format() == Format.JPEG && !warnings.isEmpty()) {
                    throw new InputException(file + ": corrupt or truncated " + what + " (" + warnings.get(0) + ")");
                }
                if (img.getWidth() != h.width() || img.getHeight() != h.height()) {
                    throw new InputException(file + ": corrupt " + what + " (decoded " + img.getWidth() + "x"
                            + img.getHeight() + ", header says " + h.width() + "x" + h.height() + ")");
                }
                return img;
            } finally {
                r.dispose();
            }
        } catch (InputException e) {
            throw e;
        } catch (IOException | RuntimeException e) {
            throw new InputException(file + ": corrupt or truncated " + what + " (" + oneLine(e) + ")", e);
        }
    }

    /** Writes a PNG atomically (temporary file in the same folder, then rename). */
    public static void writePng(RenderedImage image, Path file) throws IOException {
        writeAtomically(file, out -> {
            ImageWriter w = ImageIO.getImageWritersByFormatName("png").next();
            // Memory cache, not ImageIO's default file cache in java.io.tmpdir.
            try (MemoryCacheImageOutputStream ios = new MemoryCacheImageOutputStream(out)) {
                w.setOutput(ios);
                w.write(null, new IIOImage(image, null, null), null);
            } finally {
                w.dispose();
            }
        });
    }

    /** Body of an atomic write. */
    @FunctionalInterface
    public interface OutputWriter {
        void write(OutputStream out) throws IOException;
    }

    /**
     * Writes {@code file} through {@code writer} into a temporary file in the same folder, then
     * renames it over {@code file}; creates missing parent folders. On failure the target is untouched.
     */
    public static void writeAtomically(Path file, OutputWriter writer) throws IOException {
        Path abs = file.toAbsolutePath();
        Path dir = abs.getParent();
        try {
            Files.createDirectories(dir);
        } catch (FileSystemException e) {
            throw new IOException(dir + ": cannot create the folder for " + abs.getFileName() + ": " + reason(e), e);
        }
        // Not Files.createTempFile: that makes the file 0600; a plain CREATE_NEW keeps the user's umask.
        Path tmp = dir.resolve("." + abs.getFileName() + "." + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong() & Long.MAX_VALUE) + ".tmp");
        boolean done = false;
        try {
            OutputStream raw;
            try {
                raw = Files.newOutputStream(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
            } catch (FileSystemException e) {
                // The temporary name means nothing to the user: say which folder refused and why.
                throw new IOException(dir + ": cannot write " + abs.getFileName() + " in this folder: " + reason(e), e);
            }
            try (OutputStream out = new java.io.BufferedOutputStream(raw)) {
                writer.write(out);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, abs, StandardCopyOption.REPLACE_EXISTING);
            }
            done = true;
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    /** Why a file operation failed, in words ("permission denied"), without the paths the exception names. */
    public static String reason(FileSystemException e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or folder";
        }
        if (e instanceof java.nio.file.FileAlreadyExistsException) {
            return "already exists";
        }
        if (e instanceof java.nio.file.NotDirectoryException) {
            return "not a folder";
        }
        if (e.getReason() != null) {
            return e.getReason();
        }
        return e.getClass().getSimpleName();
    }

    private static boolean startsWith(byte[] b, byte[] prefix) {
        if (b.length < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b[i] != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static int readInt(byte[] b, int pos) {
        return ((b[pos] & 0xFF) << 24) | ((b[pos + 1] & 0xFF) << 16) | ((b[pos + 2] & 0xFF) << 8) | (b[pos + 3] & 0xFF);
    }

    private static String printable(String type) {
        return type.chars().allMatch(c -> c >= 'A' && c <= 'z') ? type : "?";
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return m.replaceAll("\\s+", " ").trim();
    }
}
