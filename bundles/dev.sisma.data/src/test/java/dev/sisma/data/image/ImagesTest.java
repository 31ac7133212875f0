package dev.sisma.data.image;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.awt.image.BufferedImage;

import org.junit.jupiter.api.Test;

class ImagesTest {
    @Test
    void areaAveragingWhenShrinking() {
        // One 4x4 plane of 2x2 blocks with values 0, 4, 8, 12 (plus a within-block offset averaging to 1.5).
        float[] src = new float[16];
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                src[y * 4 + x] = (y / 2) * 8 + (x / 2) * 4 + (y % 2) * 2 + (x % 2);
            }
        }
        float[] out = Images.resize(src, 1, 4, 4, 2, 2);
        assertArrayEquals(new float[] {1.5f, 5.5f, 9.5f, 13.5f}, out, 1e-5f);
        // Non-integer factor keeps the mean.
        float[] big = new float[7 * 7];
        for (int i = 0; i < big.length; i++) {
            big[i] = i % 5;
        }
        float[] small = Images.resize(big, 1, 7, 7, 3, 3);
        double a = 0;
        for (float v : big) {
            a += v;
        }
        double b = 0;
        for (float v : small) {
            b += v;
        }
        assertEquals(a / big.length, b / small.length, 0.2);
    }

    @Test
    void bilinearWhenGrowingKeepsConstantsAndEnds() {
        float[] src = {0, 1, 0, 1};
        float[] out = Images.resize(src, 1, 2, 2, 4, 4);
        assertEquals(0f, out[0], 1e-6f);
        assertEquals(1f, out[3], 1e-6f);
        assertEquals(0.25f, out[1], 1e-6f);
    }

    @Test
    void chwRoundTripAndCenterCrop() {
        BufferedImage img = new BufferedImage(6, 4, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 6; x++) {
                img.setRGB(x, y, x == 0 || x == 5 ? 0xFFFFFF : (x * 40) << 16 | (y * 60) << 8 | 0x80);
            }
        }
        float[] chw = Images.toChw(img, 4);
        assertEquals(48, chw.length);
        assertEquals(40 / 127.5f - 1, chw[0], 1e-6f); // crop dropped column 0
        BufferedImage back = Images.fromChw(chw, 4, 4);
        for (int y = 0; y < 4; y++) {
            for (int x = 0; x < 4; x++) {
                assertEquals(img.getRGB(x + 1, y) & 0xFFFFFF, back.getRGB(x, y) & 0xFFFFFF);
            }
        }
    }
}
