package dev.sisma.data.image;

import java.awt.image.BufferedImage;

/**
 * Conversions between images and the model's tensors: RGB as float CHW (channel planes R, G, B,
 * each row-major) with values in [-1, 1] (pixel value v maps to v / 127.5 - 1), and resampling.
 */
public final class Images {
    private Images() {
    }

    /**
     * The image as model input: center-cropped to a square, resized to {@code size x size} (area
     * averaging when shrinking, bilinear when enlarging), as float CHW in [-1, 1].
     */
    public static float[] toChw(BufferedImage img, int size) {
        int w = img.getWidth();
        int h = img.getHeight();
        int s = Math.min(w, h);
        int x0 = (w - s) / 2;
        int y0 = (h - s) / 2;
        int[] rgb = img.getRGB(x0, y0, s, s, null, 0, s);
        float[] chw = new float[3 * s * s];
        int plane = s * s;
        for (int i = 0; i < plane; i++) {
            int p = rgb[i];
            chw[i] = ((p >> 16) & 0xFF) / 127.5f - 1f;
            chw[plane + i] = ((p >> 8) & 0xFF) / 127.5f - 1f;
            chw[2 * plane + i] = (p & 0xFF) / 127.5f - 1f;
        }
        return resize(chw, 3, s, s, size, size);
    }

    /** An RGB image of float CHW values in [-1, 1] (clamped). */
    public static BufferedImage fromChw(float[] chw, int width, int height) {
        int plane = width * height;
        if (chw.length != 3 * plane) {
            throw new IllegalArgumentException("need 3x" + width + "x" + height + " values, got " + chw.length);
        }
        int[] rgb = new int[plane];
        for (int i = 0; i < plane; i++) {
            rgb[i] = (toByte(chw[i]) << 16) | (toByte(chw[plane + i]) << 8) | toByte(chw[2 * plane + i]);
        }
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    private static int toByte(float v) {
        int b = Math.round((v + 1f) * 127.5f);
        return b < 0 ? 0 : Math.min(255, b);
    }

    /**
     * Resizes planar float data ({@code channels} planes of {@code w x h}) to {@code nw x nh}:
     * separable area averaging on an axis that shrinks (every source pixel counts, weighted by
     * overlap, so no aliasing), bilinear (pixel centres aligned) on an axis that grows.
     */
    public static float[] resize(float[] src, int channels, int w, int h, int nw, int nh) {
        if (nw <= 0 || nh <= 0) {
            throw new IllegalArgumentException("size must be positive, got " + nw + "x" + nh);
        }
        if (w == nw && h == nh) {
            return src.clone();
        }
        Kernel kx = Kernel.of(w, nw);
        Kernel ky = Kernel.of(h, nh);
        float[] tmp = new float[channels * h * nw];
        for (int c = 0; c < channels; c++) {
            for (int y = 0; y < h; y++) {
                kx.apply(src, c * w * h + y * w, 1, tmp, c * nw * h + y * nw, 1);
            }
        }
        float[] out = new float[channels * nw * nh];
        for (int c = 0; c < channels; c++) {
            for (int x = 0; x < nw; x++) {
                ky.apply(tmp, c * nw * h + x, nw, out, c * nw * nh + x, nw);
            }
        }
        return out;
    }

    /** One axis of a resampling: for each output index, a run of source taps and their weights. */
    private record Kernel(int[] start, int[] count, float[] weights, int maxTaps) {
        static Kernel of(int n, int nn) {
            int[] start = new int[nn];
            int[] count = new int[nn];
            if (nn < n) {
                double scale = (double) n / nn;
                int maxTaps = (int) Math.ceil(scale) + 1;
                float[] weights = new float[nn * maxTaps];
                for (int o = 0; o < nn; o++) {
                    double a = o * scale;
                    double b = a + scale;
                    int s0 = (int) Math.floor(a);
                    int s1 = Math.min(n, (int) Math.ceil(b));
                    start[o] = s0;
                    count[o] = s1 - s0;
                    for (int s = s0; s < s1; s++) {
                        double overlap = Math.min(b, s + 1) - Math.max(a, s);
                        weights[o * maxTaps + (s - s0)] = (float) (overlap / scale);
                    }
                }
                return new Kernel(start, count, weights, maxTaps);
            }
            float[] weights = new float[nn * 2];
            double scale = (double) n / nn;
            for (int o = 0; o < nn; o++) {
                double pos = (o + 0.5) * scale - 0.5;
                pos = Math.max(0, Math.min(n - 1, pos));
                int s0 = Math.min((int) Math.floor(pos), n - 1);
                double f = pos - s0;
                start[o] = s0;
                count[o] = s0 + 1 < n ? 2 : 1;
                weights[o * 2] = (float) (count[o] == 2 ? 1 - f : 1);
                weights[o * 2 + 1] = (float) (count[o] == 2 ? f : 0);
            }
            return new Kernel(start, count, weights, 2);
        }

        void apply(float[] src, int srcOff, int srcStride, float[] dst, int dstOff, int dstStride) {
            for (int o = 0; o < start.length; o++) {
                float acc = 0;
                int base = o * maxTaps;
                int s = srcOff + start[o] * srcStride;
                for (int t = 0; t < count[o]; t++, s += srcStride) {
                    acc += src[s] * weights[base + t];
                }
                dst[dstOff + o * dstStride] = acc;
            }
        }
    }
}
