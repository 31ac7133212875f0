package dev.sisma.data.synth;

import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

import dev.sisma.data.dataset.Sample;
import dev.sisma.data.image.Images;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Sheets;
import dev.sisma.data.mask.MaskColours;

/**
 * Writes the preview sheet of 16 synthetic faces (mask | image pairs) shown in the docs:
 * {@code java -cp ... dev.sisma.data.synth.SyntheticSheet docs/synthetic-faces.png [seed] [size]}.
 */
public final class SyntheticSheet {
    public static void main(String[] args) throws Exception {
        Path out = Path.of(args.length > 0 ? args[0] : "docs/synthetic-faces.png");
        long seed = args.length > 1 ? Long.parseLong(args[1]) : 0;
        int size = args.length > 2 ? Integer.parseInt(args[2]) : 128;
        ImageFiles.writePng(sheet(new SyntheticFaces(seed), 16, size), out);
        System.out.println("wrote " + out);
    }

    static BufferedImage sheet(SyntheticFaces faces, int n, int size) {
        List<BufferedImage> tiles = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Sample s = faces.sample(i, size);
            tiles.add(MaskColours.render(s.mask()));
            tiles.add(Images.fromChw(s.image(), size, size));
        }
        return Sheets.grid(tiles, 8, size, 4, 0xFFFFFF);
    }
}
