package dev.sisma.train.internal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;

import javax.imageio.ImageIO;

/** PNG output written atomically (temp file in the same folder, then rename), and float image conversion. */
public final class Images {
    private Images() {
    }

    public static void writePng(BufferedImage img, Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + file.getFileName(), ".tmp");
        try {
            if (!ImageIO.write(img, "png", tmp.toFile())) {
                throw new IOException("no PNG writer");
            }
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** RGB planes (CHW, [-1, 1]) of a size x size image into an image, at (ox, oy). */
    public static void drawChw(BufferedImage img, float[] chw, int offset, int size, int ox, int oy) {
        int plane = size * size;
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                int i = offset + y * size + x;
                int r = toByte(chw[i]), gr = toByte(chw[i + plane]), b = toByte(chw[i + 2 * plane]);
                img.setRGB(ox + x, oy + y, (r << 16) | (gr << 8) | b);
            }
        }
    }

    static int toByte(float v) {
        float c = (v + 1f) * 127.5f;
        return c <= 0 ? 0 : c >= 255 ? 255 : Math.round(c);
    }
}
