package dev.sisma.data.mask;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.TestData;
import dev.sisma.data.image.ImageFiles;

class MaskFilesTest {
    @TempDir
    Path tmp;

    static Mask randomMask(int w, int h, long seed) {
        Random r = new Random(seed);
        byte[] c = new byte[w * h];
        for (int i = 0; i < c.length; i++) {
            c[i] = (byte) r.nextInt(FaceClass.COUNT);
        }
        return new Mask(w, h, c);
    }

    @Test
    void readsCelebAMaskHqLabels() {
        for (int i = 0; i < 3; i++) {
            ImportedMask m = MaskFiles.read(TestData.mini().resolve("labels/" + i + ".png"));
            assertFalse(m.fromColour());
            assertEquals(512, m.mask().width());
            assertEquals(512, m.mask().height());
            int[] hist = histogram(m.mask());
            assertTrue(hist[FaceClass.SKIN.index()] > 10_000, "a face has skin");
            assertTrue(hist[FaceClass.NOSE.index()] > 100, "a face has a nose");
        }
    }

    @Test
    void perPartLayoutReproducesTheMergedLabels() {
        Path anno = TestData.mini().resolve("CelebAMask-HQ-mask-anno");
        for (int i = 0; i < 3; i++) {
            Mask parts = MaskFiles.readParts(anno, i);
            Mask merged = MaskFiles.readIndex(TestData.mini().resolve("labels/" + i + ".png"));
            assertEquals(merged, parts, "image " + i);
        }
    }

    @Test
    void perPartReaderUsesChannelZeroOfThreeChannelPartsAndLaterPartsWin() throws IOException {
        Path anno = tmp.resolve("anno");
        // skin everywhere, nose over the top half: nose (2) comes after skin (1) so it wins.
        BufferedImage skin = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        BufferedImage nose = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 16; x++) {
                skin.setRGB(x, y, 0xFFFFFF);
                nose.setRGB(x, y, y < 8 ? 0xFF0000 : 0x00FFFF); // channel 0 (red) 255 on top, 0 below
            }
        }
        ImageFiles.writePng(skin, MaskFiles.partFile(anno, 2001, FaceClass.SKIN));
        ImageFiles.writePng(nose, MaskFiles.partFile(anno, 2001, FaceClass.NOSE));
        assertTrue(Files.exists(anno.resolve("1/02001_skin.png")));
        Mask m = MaskFiles.readParts(anno, 2001);
        assertEquals(FaceClass.NOSE.index(), m.classAt(3, 0));
        assertEquals(FaceClass.SKIN.index(), m.classAt(3, 15));
        // Any part file of the entry reads the whole entry, wherever its folder is.
        assertEquals(m, MaskFiles.read(anno.resolve("1/02001_nose.png")).mask());
        assertEquals(m, MaskFiles.read(anno.resolve("1/02001_skin.png")).mask());

        InputException e = assertThrows(InputException.class, () -> MaskFiles.readParts(anno, 5));
        assertTrue(e.getMessage().contains("no part files"), e.getMessage());
    }

    @Test
    void indexPngRoundTripsAndIsEightBitGrey() throws IOException {
        Mask m = randomMask(37, 23, 1);
        Path f = tmp.resolve("sub/m.png");
        MaskFiles.writeIndex(m, f);
        assertEquals(m, MaskFiles.readIndex(f));
        BufferedImage img = ImageFiles.read(f);
        assertEquals(BufferedImage.TYPE_BYTE_GRAY, img.getType());
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "no temp files left behind");
        }
    }

    @Test
    void colourPngRoundTripsAndAutoDetects() throws IOException {
        Mask m = randomMask(40, 30, 2);
        Path f = tmp.resolve("c.png");
        MaskFiles.writeColour(m, f);
        ImportedMask c = MaskFiles.readColour(f);
        assertEquals(m, c.mask());
        assertEquals(0, c.farPixels());
        ImportedMask auto = MaskFiles.read(f);
        assertTrue(auto.fromColour());
        assertEquals(m, auto.mask());
        InputException e = assertThrows(InputException.class, () -> MaskFiles.readIndex(f));
        assertTrue(e.getMessage().startsWith(f.toString()) && e.getMessage().contains("colour image"), e.getMessage());
    }

    @Test
    void colourImportMapsToNearestAndCountsFarPixels() throws IOException {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 400; i++) {
            img.setRGB(i % 20, i / 20, 0x00CC00); // cloth exactly
        }
        img.setRGB(0, 0, 0xC80505); // near skin 0xCC0000
        img.setRGB(1, 0, 0x0000C8); // near hair 0x0000CC
        img.setRGB(2, 0, 0x808080); // grey: far from every palette colour
        Path f = tmp.resolve("other-palette.png");
        ImageFiles.writePng(img, f);
        ImportedMask c = MaskFiles.read(f);
        assertTrue(c.fromColour());
        assertEquals(1, c.farPixels());
        assertEquals(FaceClass.SKIN.index(), c.mask().classAt(0, 0));
        assertEquals(FaceClass.HAIR.index(), c.mask().classAt(1, 0));
        assertEquals(FaceClass.CLOTH.index(), c.mask().classAt(3, 0));
    }

    @Test
    void aColourImageFarFromThePaletteIsRefusedWithItsShare() throws IOException {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 400; i++) {
            img.setRGB(i % 20, i / 20, i < 24 ? 0x808080 : 0xCC0000); // 24 of 400 far: 6%
        }
        Path f = tmp.resolve("six-percent.png");
        ImageFiles.writePng(img, f);
        InputException e = assertThrows(InputException.class, () -> MaskFiles.read(f));
        assertEquals(f + ": 6.0% of pixels are far from every CelebAMask-HQ palette colour (limit 5%); "
                + "not a colour mask (a photo, or another palette?)", e.getMessage());
        assertThrows(InputException.class, () -> MaskFiles.readColour(f));
        // The real photo of the sample: most of its pixels are far.
        Path photo = TestData.mini().resolve("CelebA-HQ-img/0.jpg");
        InputException p = assertThrows(InputException.class, () -> MaskFiles.read(photo));
        assertTrue(p.getMessage().matches(java.util.regex.Pattern.quote(photo.toString())
                + ": [0-9]+% of pixels are far from every CelebAMask-HQ palette colour \\(limit 5%\\).*"), p.getMessage());
    }

    @Test
    void antialiasedColourMasksStillLoad() throws IOException {
        // The sample's label drawn in the palette and scaled down smoothly: its edge pixels blend two
        // classes, a few percent of the image.
        Mask label = MaskFiles.readIndex(TestData.mini().resolve("labels/0.png"));
        BufferedImage smooth = new BufferedImage(200, 200, BufferedImage.TYPE_INT_RGB);
        java.awt.Graphics2D g = smooth.createGraphics();
        g.setRenderingHint(java.awt.RenderingHints.KEY_INTERPOLATION, java.awt.RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.drawImage(MaskColours.render(label), 0, 0, 200, 200, null);
        g.dispose();
        Path f = tmp.resolve("smooth.png");
        ImageFiles.writePng(smooth, f);
        ImportedMask m = MaskFiles.read(f);
        assertTrue(m.fromColour());
        assertTrue(m.farPixels() > 0, "the scaled mask has blended edge pixels");
    }

    @Test
    void masksBelowTheMinimumSizeAreRefused() throws IOException {
        Path f = tmp.resolve("tiny.png");
        MaskFiles.writeIndex(new Mask(1, 1, new byte[] {1}), f);
        InputException e = assertThrows(InputException.class, () -> MaskFiles.read(f));
        assertTrue(e.getMessage().startsWith(f + ": mask is 1x1 pixels; a mask needs at least 16x16"), e.getMessage());
        Path narrow = tmp.resolve("narrow.png");
        MaskFiles.writeColour(randomMask(64, 15, 4), narrow);
        assertThrows(InputException.class, () -> MaskFiles.read(narrow));
        Path ok = tmp.resolve("ok.png");
        MaskFiles.writeIndex(randomMask(16, 16, 5), ok);
        assertEquals(16, MaskFiles.read(ok).mask().width());
    }

    @Test
    void renderUsesThePalette() {
        Mask m = new Mask(2, 1, new byte[] {1, 13});
        BufferedImage img = MaskColours.render(m);
        assertEquals(0xCC0000, img.getRGB(0, 0) & 0xFFFFFF);
        assertEquals(0x0000CC, img.getRGB(1, 0) & 0xFFFFFF);
    }

    @Test
    void classValuesAboveEighteenAreCounted() throws IOException {
        BufferedImage img = new BufferedImage(20, 20, BufferedImage.TYPE_BYTE_GRAY);
        for (int i = 0; i < 7; i++) {
            img.getRaster().setSample(i, 3, 0, 200 + i);
        }
        Path f = tmp.resolve("bad-values.png");
        ImageFiles.writePng(img, f);
        InputException e = assertThrows(InputException.class, () -> MaskFiles.read(f));
        assertTrue(e.getMessage().startsWith(f + ": 7 of 400 pixels have class values above 18 (largest 206)"),
                e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void greyRgbImageIsAnIndexMask() throws IOException {
        BufferedImage img = new BufferedImage(16, 16, BufferedImage.TYPE_3BYTE_BGR);
        img.setRGB(0, 0, 0x000000);
        img.setRGB(1, 0, 0x0D0D0D); // 13 hair
        img.setRGB(2, 0, 0x121212); // 18 cloth
        Path f = tmp.resolve("grey-rgb.png");
        ImageFiles.writePng(img, f);
        ImportedMask m = MaskFiles.read(f);
        assertFalse(m.fromColour());
        assertArrayEquals(new byte[] {0, 13, 18}, java.util.Arrays.copyOf(m.mask().copyOfClasses(), 3));
    }

    @Test
    void fitCropsToSquareAndResizesNearest() throws IOException {
        // 6x4 mask: columns 0 and 5 are cropped away; the centre 4x4 is 2x2 blocks of classes 1..4.
        byte[] c = new byte[24];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 6; x++) {
                c[y * 6 + x] = (byte) (x == 0 || x == 5 ? 18 : 1 + (y / 2) * 2 + (x - 1) / 2);
            }
        }
        Mask fitted = MaskFiles.fit(new Mask(6, 4, c), 2);
        assertArrayEquals(new byte[] {1, 2, 3, 4}, fitted.copyOfClasses());
        Path f = tmp.resolve("big.png");
        MaskFiles.writeIndex(randomMask(300, 200, 3), f);
        Mask m = MaskFiles.read(f, 64).mask();
        assertEquals(64, m.width());
        assertEquals(64, m.height());
    }

    static int[] histogram(Mask m) {
        int[] h = new int[FaceClass.COUNT];
        for (byte b : m.copyOfClasses()) {
            h[b]++;
        }
        return h;
    }
}
