package dev.sisma.data.image;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.zip.CRC32;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.data.TestData;
import dev.sisma.data.mask.MaskFiles;

/** A corpus of bad files made here; each must fail with one line naming the file and the problem. */
class BadImageFilesTest {
    @TempDir
    Path tmp;

    private static InputException refused(Path f, String expected) {
        InputException e = assertThrows(InputException.class, () -> ImageFiles.read(f));
        String m = e.getMessage();
        assertTrue(m.startsWith(f.toString() + ": "), m);
        assertTrue(m.contains(expected), "expected '" + expected + "' in: " + m);
        assertFalse(m.contains("\n"), m);
        // The mask reader goes through the same check.
        assertThrows(InputException.class, () -> MaskFiles.read(f));
        return e;
    }

    private byte[] validPng(int w, int h) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_3BYTE_BGR);
        java.util.Random r = new java.util.Random(7);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                img.setRGB(x, y, r.nextInt()); // noise: IDAT is large, so a cut lands inside it
            }
        }
        Path f = tmp.resolve("valid-" + w + "x" + h + ".png");
        ImageFiles.writePng(img, f);
        return Files.readAllBytes(f);
    }

    private Path write(String name, byte[] bytes) throws IOException {
        Path f = tmp.resolve(name);
        Files.write(f, bytes);
        return f;
    }

    @Test
    void validPngAndJpegRead() throws IOException {
        Path png = write("ok.png", validPng(20, 10));
        BufferedImage img = ImageFiles.read(png);
        assertEquals(20, img.getWidth());
        assertEquals(new ImageFiles.Header(ImageFiles.Format.PNG, 20, 10), ImageFiles.probe(png));
        Path jpg = TestData.mini().resolve("CelebA-HQ-img/0.jpg");
        assertEquals(new ImageFiles.Header(ImageFiles.Format.JPEG, 1024, 1024), ImageFiles.probe(jpg));
        assertEquals(1024, ImageFiles.read(jpg).getWidth());
    }

    @Test
    void emptyFile() throws IOException {
        refused(write("empty.png", new byte[0]), "empty file");
    }

    @Test
    void directory() throws IOException {
        Path d = Files.createDirectory(tmp.resolve("dir.png"));
        refused(d, "is a directory");
    }

    @Test
    void missingFile() {
        refused(tmp.resolve("nope.png"), "no such file");
    }

    @Test
    void notAnImage() throws IOException {
        refused(write("text.png", "hello, this is not a picture\n".getBytes()), "not an image");
        refused(write("zeros.png", new byte[1000]), "not an image");
    }

    @Test
    void truncatedPng() throws IOException {
        byte[] ok = validPng(64, 64);
        refused(write("half.png", Arrays.copyOf(ok, ok.length / 2)), "truncated PNG");
        refused(write("no-iend.png", Arrays.copyOf(ok, ok.length - 12)), "truncated PNG");
        refused(write("sig-only.png", Arrays.copyOf(ok, 8)), "truncated PNG");
        refused(write("ihdr-cut.png", Arrays.copyOf(ok, 20)), "truncated PNG");
    }

    @Test
    void corruptPng() throws IOException {
        byte[] bad = validPng(64, 64);
        bad[bad.length / 2] ^= 0x55; // inside IDAT
        refused(write("flipped.png", bad), "CRC mismatch");
    }

    @Test
    void pngHeaderClaimingTooManyPixelsIsRefusedBeforeDecoding() throws IOException {
        // A well-formed IHDR (valid CRC) claiming 100000x100000, followed by nothing else: if it were
        // decoded, the decoder would try to allocate 10^10 pixels.
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'});
        ByteBuffer ihdr = ByteBuffer.allocate(17);
        ihdr.put("IHDR".getBytes()).putInt(100_000).putInt(100_000).put((byte) 8).put((byte) 2).put((byte) 0)
                .put((byte) 0).put((byte) 0);
        CRC32 crc = new CRC32();
        crc.update(ihdr.array());
        out.write(ByteBuffer.allocate(4).putInt(13).array());
        out.write(ihdr.array());
        out.write(ByteBuffer.allocate(4).putInt((int) crc.getValue()).array());
        Path f = write("huge.png", out.toByteArray());
        refused(f, "claims 100000x100000 pixels, more than the 16384x16384 limit");
    }

    @Test
    void jpegHeaderClaimingTooManyPixels() throws IOException {
        byte[] jpg = Files.readAllBytes(TestData.mini().resolve("CelebA-HQ-img/1.jpg"));
        // Patch the frame header's width and height to 60000.
        for (int i = 2; i < jpg.length - 9; i++) {
            int m = jpg[i + 1] & 0xFF;
            if ((jpg[i] & 0xFF) == 0xFF && (m == 0xC0 || m == 0xC2 || m == 0xC1)) {
                jpg[i + 5] = (byte) 0xEA;
                jpg[i + 6] = 0x60;
                jpg[i + 7] = (byte) 0xEA;
                jpg[i + 8] = 0x60;
                break;
            }
        }
        refused(write("huge.jpg", jpg), "claims 60000x60000 pixels");
    }

    @Test
    void truncatedJpeg() throws IOException {
        byte[] jpg = Files.readAllBytes(TestData.mini().resolve("CelebA-HQ-img/2.jpg"));
        refused(write("cut.jpg", Arrays.copyOf(jpg, jpg.length / 2)), "JPEG");
        refused(write("cut-header.jpg", Arrays.copyOf(jpg, 40)), "JPEG");
    }

    @Test
    void atomicWriteLeavesTargetUntouchedOnFailure() throws IOException {
        Path f = write("keep.bin", new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> ImageFiles.writeAtomically(f, out -> {
            out.write(9);
            throw new IOException("disk full");
        }));
        assertEquals(3, Files.readAllBytes(f).length);
        try (var s = Files.list(tmp)) {
            assertEquals(1, s.count());
        }
    }
}
