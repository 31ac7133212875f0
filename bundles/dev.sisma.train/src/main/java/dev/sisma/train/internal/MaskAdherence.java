package dev.sisma.train.internal;

import dev.sisma.api.mask.Mask;

/**
 * How well an image follows its mask, without any learned model: take the mean colour of each
 * mask region in the image, classify every pixel to the region whose mean colour is nearest
 * (squared RGB distance), and report the fraction of pixels whose class is the mask's. A uniform
 * or mask-blind image scores about the largest region's share; an image whose regions have
 * distinct colours that match the layout scores near 1.
 */
public final class MaskAdherence {
    private MaskAdherence() {
    }

    /** Pixel accuracy of {@code chw} (3 planes of the mask's size, any range) against {@code mask}. */
    public static double score(Mask mask, float[] chw) {
        int w = mask.width(), h = mask.height(), plane = w * h;
        if (chw.length != 3 * plane) {
            throw new IllegalArgumentException("image of " + chw.length + " values does not match a " + w + "x" + h + " mask");
        }
        byte[] cls = mask.copyOfClasses();
        int k = 0;
        for (byte c : cls) {
            k = Math.max(k, c + 1);
        }
        double[] sum = new double[3 * k];
        int[] count = new int[k];
        for (int p = 0; p < plane; p++) {
            int c = cls[p];
            count[c]++;
            for (int ch = 0; ch < 3; ch++) {
                sum[3 * c + ch] += chw[ch * plane + p];
            }
        }
        for (int c = 0; c < k; c++) {
            for (int ch = 0; ch < 3; ch++) {
                sum[3 * c + ch] = count[c] == 0 ? Double.NaN : sum[3 * c + ch] / count[c];
            }
        }
        int correct = 0;
        for (int p = 0; p < plane; p++) {
            int best = -1;
            double bestD = Double.POSITIVE_INFINITY;
            for (int c = 0; c < k; c++) {
                if (count[c] == 0) {
                    continue;
                }
                double d = 0;
                for (int ch = 0; ch < 3; ch++) {
                    double e = chw[ch * plane + p] - sum[3 * c + ch];
                    d += e * e;
                }
                // ties go to the lower class index, so a flat image scores only the first region's share
                if (d < bestD) {
                    bestD = d;
                    best = c;
                }
            }
            if (best == cls[p]) {
                correct++;
            }
        }
        return (double) correct / plane;
    }
}
