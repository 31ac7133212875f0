package dev.sisma.data.synth;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;

import org.junit.jupiter.api.Test;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Datasets;
import dev.sisma.data.dataset.Sample;
import dev.sisma.data.dataset.Split;

class SyntheticFacesTest {
    @Test
    void deterministicForSeedAndIndex() {
        Sample a = new SyntheticFaces(3).sample(17, 48);
        Sample b = new SyntheticFaces(3).sample(17, 48);
        assertArrayEquals(a.image(), b.image());
        assertEquals(a.mask(), b.mask());
        assertEquals(a.mask(), new SyntheticFaces(3).mask(17, 48), "mask() matches sample()");
        assertNotEquals(a.mask(), new SyntheticFaces(3).mask(18, 48));
        assertNotEquals(a.mask(), new SyntheticFaces(4).mask(17, 48));
    }

    @Test
    void everyClassAppearsAndFacesArePlausible() {
        SyntheticFaces f = new SyntheticFaces(0);
        int[] samplesWith = new int[FaceClass.COUNT];
        int n = 300;
        for (int i = 0; i < n; i++) {
            int[] h = histogram(f.mask(i, 64));
            for (int c = 0; c < FaceClass.COUNT; c++) {
                if (h[c] > 0) {
                    samplesWith[c]++;
                }
            }
            int face = h[FaceClass.SKIN.index()];
            assertTrue(face > 64 * 64 / 20 && face < 64 * 64 * 6 / 10, "skin fraction of " + i + ": " + face);
            assertTrue(h[FaceClass.BACKGROUND.index()] > 0 || h[FaceClass.HAIR.index()] > 0);
        }
        for (FaceClass c : FaceClass.values()) {
            assertTrue(samplesWith[c.index()] > 0, c + " never appears");
        }
        // Always there: skin, nose, eyes, lips. Sometimes: accessories.
        for (FaceClass c : new FaceClass[] {FaceClass.SKIN, FaceClass.NOSE, FaceClass.L_EYE, FaceClass.R_EYE,
            FaceClass.U_LIP, FaceClass.L_LIP, FaceClass.NECK}) {
            assertTrue(samplesWith[c.index()] > n * 0.9, c + " in only " + samplesWith[c.index()]);
        }
        for (FaceClass c : new FaceClass[] {FaceClass.EYE_G, FaceClass.HAT, FaceClass.EAR_R, FaceClass.NECK_L}) {
            assertTrue(samplesWith[c.index()] < n * 0.4, c + " in " + samplesWith[c.index()]);
        }
    }

    @Test
    void leftPartsAreOnTheImageRightLikeCelebAMaskHq() {
        Mask m = new SyntheticFaces(1).mask(0, 128);
        assertTrue(meanX(m, FaceClass.L_EYE) > 64 && meanX(m, FaceClass.R_EYE) < 64);
    }

    @Test
    void resolutionIndependentLayout() {
        SyntheticFaces f = new SyntheticFaces(2);
        for (int i = 0; i < 5; i++) {
            int[] small = histogram(f.mask(i, 64));
            int[] big = histogram(f.mask(i, 512));
            for (int c : new int[] {0, 1, 13}) {
                assertEquals(big[c] / (512.0 * 512), small[c] / (64.0 * 64), 0.02, "class " + c + " of face " + i);
            }
        }
    }

    @Test
    void colourDependsOnClassAndVariesBetweenSamples() {
        SyntheticFaces f = new SyntheticFaces(5);
        int n = 40;
        double[][] skinMeans = new double[n][];
        for (int i = 0; i < n; i++) {
            Sample s = f.sample(i, 64);
            double[] skin = meanColour(s, FaceClass.SKIN);
            double[] lips = meanColour(s, FaceClass.L_LIP);
            double[] eyes = meanColour(s, FaceClass.L_EYE);
            skinMeans[i] = skin;
            assertTrue(distance(skin, lips) > 0.03 || distance(skin, eyes) > 0.1, "features stand out in " + i);
            for (float v : s.image()) {
                assertTrue(v >= -1 && v <= 1);
            }
        }
        double spread = 0;
        for (int i = 1; i < n; i++) {
            spread = Math.max(spread, distance(skinMeans[0], skinMeans[i]));
        }
        assertTrue(spread > 0.4, "skin tones vary: " + spread);
    }

    @Test
    void fastEnoughToTrainOn() {
        SyntheticFaces f = new SyntheticFaces(9);
        long t0 = System.nanoTime();
        for (int i = 0; i < 200; i++) {
            f.sample(i, 64);
        }
        double ms = (System.nanoTime() - t0) / 1e6 / 200;
        assertTrue(ms < 10, "ms per 64x64 sample: " + ms);
    }

    @Test
    void datasetSplitsDoNotOverlapAndProviderWorks() {
        Dataset train = Datasets.builtIn().open("synthetic", java.nio.file.Path.of("."), Split.TRAIN, 7, Map.of("count", "10"));
        Dataset test = Datasets.builtIn().open("synthetic", java.nio.file.Path.of("."), Split.TEST, 7, Map.of());
        assertEquals(10, train.size());
        assertEquals(SyntheticDataset.DEFAULT_TEST_COUNT, test.size());
        assertNotEquals(train.mask(0, 32), test.mask(0, 32));
        assertEquals(train.mask(3, 32), new SyntheticDataset(7, Split.TRAIN, 10).get(3, 32).mask());
    }

    static int[] histogram(Mask m) {
        int[] h = new int[FaceClass.COUNT];
        for (byte b : m.copyOfClasses()) {
            h[b]++;
        }
        return h;
    }

    static double meanX(Mask m, FaceClass c) {
        double s = 0;
        int n = 0;
        for (int y = 0; y < m.height(); y++) {
            for (int x = 0; x < m.width(); x++) {
                if (m.classAt(x, y) == c.index()) {
                    s += x;
                    n++;
                }
            }
        }
        return s / n;
    }

    static double[] meanColour(Sample s, FaceClass c) {
        byte[] cl = s.mask().copyOfClasses();
        int plane = cl.length;
        double[] m = new double[3];
        int n = 0;
        for (int i = 0; i < plane; i++) {
            if (cl[i] == c.index()) {
                for (int k = 0; k < 3; k++) {
                    m[k] += s.image()[k * plane + i];
                }
                n++;
            }
        }
        for (int k = 0; k < 3; k++) {
            m[k] /= Math.max(1, n);
        }
        return m;
    }

    static double distance(double[] a, double[] b) {
        double d = 0;
        for (int k = 0; k < 3; k++) {
            d += (a[k] - b[k]) * (a[k] - b[k]);
        }
        return Math.sqrt(d);
    }
}
