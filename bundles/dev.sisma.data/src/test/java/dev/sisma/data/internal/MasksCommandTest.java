package dev.sisma.data.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.TestData;
import dev.sisma.data.dataset.CelebAMaskHq;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.data.synth.SyntheticFaces;

class MasksCommandTest {
    @TempDir
    Path tmp;
    final ByteArrayOutputStream out = new ByteArrayOutputStream();
    final ByteArrayOutputStream err = new ByteArrayOutputStream();

    CommandContext ctx() {
        PrintStream o = new PrintStream(out, true);
        PrintStream e = new PrintStream(err, true);
        return new CommandContext() {
            @Override
            public PrintStream out() {
                return o;
            }

            @Override
            public PrintStream err() {
                return e;
            }

            @Override
            public InputStream in() {
                return InputStream.nullInputStream();
            }

            @Override
            public Path workingDirectory() {
                return tmp;
            }
        };
    }

    int run(String... args) throws Exception {
        return new MasksCommand().run(List.of(args), ctx());
    }

    @Test
    void synthWritesMasksImagesAndPreviewsThatFormADataset() throws Exception {
        assertEquals(0, run("synth", "--count", "3", "--out", "syn", "--seed", "4", "--size", "32"));
        Path dir = tmp.resolve("syn");
        Mask m = MaskFiles.readIndex(dir.resolve("labels/00002.png"));
        assertEquals(new SyntheticFaces(4).mask(2, 32), m);
        assertEquals(m, MaskFiles.readColour(dir.resolve("colour/00002.png")).mask());
        assertEquals(32, ImageFiles.read(dir.resolve("images/00000.png")).getWidth());
        assertTrue(out.toString().contains("3/3"), out.toString());
        CelebAMaskHq asDataset = CelebAMaskHq.open(dir, Split.TRAIN);
        assertEquals(3, asDataset.size());
        assertEquals(m, asDataset.mask(2, 32));
    }

    @Test
    void checkImportAndRender() throws Exception {
        Mask m = new SyntheticFaces(0).mask(0, 64);
        MaskFiles.writeColour(m, tmp.resolve("c.png"));
        assertEquals(0, run("check", "c.png"));
        assertTrue(out.toString().contains("64x64 colour mask, classes: background skin"), out.toString());
        assertEquals(0, run("import", "c.png", "--out", "i.png", "--size", "32"));
        assertEquals(MaskFiles.fit(m, 32), MaskFiles.readIndex(tmp.resolve("i.png")));
        assertEquals(0, run("render", "i.png", "--out", "r.png"));
        assertEquals(MaskFiles.fit(m, 32), MaskFiles.readColour(tmp.resolve("r.png")).mask());

        // 8 of 400 pixels (2%) far from the palette: under the limit, imported with a warning.
        BufferedImage few = new BufferedImage(20, 20, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < 400; i++) {
            few.setRGB(i % 20, i / 20, i < 8 ? 0x808080 : 0xCC0000);
        }
        ImageFiles.writePng(few, tmp.resolve("odd.png"));
        assertEquals(0, run("import", "odd.png", "--out", "odd-i.png"));
        assertTrue(err.toString().contains("8 of 400 pixels (2.0%) were far"), err.toString());
    }

    @Test
    void importOfAPartFileImportsItsWholeEntry() throws Exception {
        Path part = TestData.mini().resolve("CelebAMask-HQ-mask-anno/0/00001_hair.png");
        assertEquals(0, run("import", part.toString(), "--out", "entry.png"));
        Mask imported = MaskFiles.readIndex(tmp.resolve("entry.png"));
        assertEquals(MaskFiles.readIndex(TestData.mini().resolve("labels/1.png")), imported,
                "the merged entry, as labels/1.png holds it");
        assertTrue(out.toString().contains("entry 1 merged from its part files"), out.toString());
        int hair = 0;
        int brow = 0;
        for (byte b : imported.copyOfClasses()) {
            hair += b == FaceClass.HAIR.index() ? 1 : 0;
            brow += b == FaceClass.R_BROW.index() ? 1 : 0;
        }
        assertTrue(hair > 10 * brow, "hair stays hair: " + hair + " hair, " + brow + " r_brow pixels");
    }

    @Test
    void badInputAndUsage() throws Exception {
        Files.write(tmp.resolve("bad.png"), new byte[] {(byte) 0x89, 'P', 'N', 'G'});
        InputException e = assertThrows(InputException.class, () -> run("check", "bad.png"));
        assertTrue(e.getMessage().startsWith(tmp.resolve("bad.png") + ": "), e.getMessage());
        assertThrows(UsageException.class, () -> run());
        UsageException u = assertThrows(UsageException.class, () -> run("synt"));
        assertTrue(u.getMessage().contains("did you mean synth"), u.getMessage());
        assertThrows(UsageException.class, () -> run("synth", "--out", "x"));
        assertThrows(UsageException.class, () -> run("synth", "--count", "2", "--out", "x", "--size", "100000"));
        Files.write(tmp.resolve("file"), new byte[] {1});
        assertThrows(InputException.class, () -> run("synth", "--count", "1", "--out", "file"));
    }
}
