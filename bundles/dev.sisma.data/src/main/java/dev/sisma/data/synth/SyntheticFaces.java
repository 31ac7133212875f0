package dev.sisma.data.synth;

import java.util.SplittableRandom;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Sample;

/**
 * Procedural faces: a face layout using all 19 CelebAMask-HQ classes (head, hair in several
 * styles, eyes, brows, nose, lips, mouth, ears, neck, cloth, and sometimes eyeglasses, a hat,
 * earrings, a necklace; varied pose and scale), and an RGB rendering in which each class draws its
 * colour from its own distribution per sample (skin tones, hair colours, cloth colours...), with
 * shading and light texture.
 *
 * <p>Deterministic: {@code (seed, index)} fixes the face; {@code size} only sets the sampling grid
 * (shapes are defined in resolution-independent coordinates, so the mask at 64 is the mask at 512
 * sampled at pixel centres). Thread-safe and allocation-light: about 2 ms for a 64x64 sample.
 */
public final class SyntheticFaces {
    private final long seed;

    public SyntheticFaces(long seed) {
        this.seed = seed;
    }

    public long seed() {
        return seed;
    }

    /** The mask of face {@code index} at {@code size x size}. */
    public Mask mask(long index, int size) {
        Face f = new Face(seed, index);
        byte[] classes = new byte[size * size];
        double inv = 1.0 / size;
        for (int py = 0; py < size; py++) {
            for (int px = 0; px < size; px++) {
                classes[py * size + px] = (byte) f.classAtImage((px + 0.5) * inv, (py + 0.5) * inv);
            }
        }
        return new Mask(size, size, classes);
    }

    /** Face {@code index} at {@code size x size}: RGB as float CHW in [-1, 1], and its mask. */
    public Sample sample(long index, int size) {
        Face f = new Face(seed, index);
        byte[] classes = new byte[size * size];
        int plane = size * size;
        float[] chw = new float[3 * plane];
        double inv = 1.0 / size;
        double[] rgb = new double[3];
        for (int py = 0; py < size; py++) {
            for (int px = 0; px < size; px++) {
                double x = (px + 0.5) * inv;
                double y = (py + 0.5) * inv;
                int c = f.classAtImage(x, y);
                int i = py * size + px;
                classes[i] = (byte) c;
                f.colour(c, x, y, px, py, size, rgb);
                chw[i] = (float) (clamp01(rgb[0]) * 2 - 1);
                chw[plane + i] = (float) (clamp01(rgb[1]) * 2 - 1);
                chw[2 * plane + i] = (float) (clamp01(rgb[2]) * 2 - 1);
            }
        }
        return new Sample("synth-s" + seed + "-i" + index, chw, new Mask(size, size, classes));
    }

    static double clamp01(double v) {
        return v < 0 ? 0 : v > 1 ? 1 : v;
    }

    /** Hair styles. */
    enum Hair {
        NONE, SHORT, LONG, BUN
    }

    /**
     * One face: every parameter drawn once from the (seed, index) stream. Shapes live in a face
     * frame (u right, v down, origin at the head centre, unit = image width before scaling).
     */
    static final class Face {
        final long noiseSeed;
        // pose
        final double cx, cy, cos, sin, scale;
        // head
        final double rx, ry, taper;
        // features
        final double eyeX, eyeY, eyeRx, eyeRy, eyeTilt;
        final double browY, browLen, browTh, browArch, browTilt;
        final double noseTop, noseBottom, noseW;
        final double mouthY, mouthW, upperLip, lowerLip, gap, smile;
        final double earX, earY, earRx, earRy;
        final boolean earrings, earringHoop;
        final double earringR;
        // neck, cloth, necklace
        final double neckW, neckBase, collarDepth, shoulderW, shoulderDrop;
        final boolean necklace;
        final double necklaceY, necklaceSag, necklaceTh;
        // hair
        final Hair hair;
        final double capRx, capRy, capLift, hairline, temple, part, sideBottom, longW, longBottom;
        final boolean fringe, earsCovered;
        final double bunX, bunY, bunR;
        // accessories
        final boolean glasses, hat;
        final double lensW, lensH, frame, hatLine, hatBrim;
        // colours
        final double[] skin, noseC, hairC, brow, lip, iris, cloth, cloth2, bgA, bgB, hatC, metal, necklaceC, lens, frameC;
        final double lx, ly, bgAngle, clothPattern, clothFreq, lightAmount;

        Face(long seed, long index) {
            SplittableRandom r = new SplittableRandom(mix(seed * 0x9E3779B97F4A7C15L + index));
            noiseSeed = r.nextLong();
            double angle = Math.toRadians(r.nextDouble(-10, 10));
            cos = Math.cos(angle);
            sin = Math.sin(angle);
            scale = r.nextDouble(0.92, 1.22);
            cx = 0.5 + r.nextDouble(-0.05, 0.05);
            cy = 0.52 + r.nextDouble(-0.04, 0.05);

            rx = r.nextDouble(0.22, 0.265);
            ry = rx * r.nextDouble(1.22, 1.4);
            taper = r.nextDouble(0.15, 0.4);

            eyeX = rx * r.nextDouble(0.4, 0.5);
            eyeY = -ry * r.nextDouble(0.12, 0.22);
            eyeRx = rx * r.nextDouble(0.14, 0.19);
            eyeRy = eyeRx * r.nextDouble(0.35, 0.55);
            eyeTilt = r.nextDouble(-0.12, 0.12);
            browY = eyeY - ry * r.nextDouble(0.15, 0.24);
            browLen = rx * r.nextDouble(0.22, 0.3);
            browTh = rx * r.nextDouble(0.035, 0.07);
            browArch = ry * r.nextDouble(0.0, 0.06);
            browTilt = r.nextDouble(-0.15, 0.2);
            noseTop = eyeY + ry * 0.05;
            noseBottom = ry * r.nextDouble(0.22, 0.32);
            noseW = rx * r.nextDouble(0.12, 0.17);
            mouthY = ry * r.nextDouble(0.5, 0.6);
            mouthW = rx * r.nextDouble(0.3, 0.44);
            upperLip = ry * r.nextDouble(0.03, 0.055);
            lowerLip = ry * r.nextDouble(0.04, 0.075);
            gap = r.nextDouble() < 0.4 ? ry * r.nextDouble(0.02, 0.09) : 0;
            smile = ry * r.nextDouble(-0.02, 0.06);
            earX = rx * r.nextDouble(0.94, 1.02);
            earY = ry * r.nextDouble(-0.02, 0.12);
            earRx = rx * r.nextDouble(0.12, 0.17);
            earRy = ry * r.nextDouble(0.17, 0.23);
            earrings = r.nextDouble() < 0.25;
            earringHoop = r.nextBoolean();
            earringR = rx * r.nextDouble(0.05, 0.09);

            neckW = rx * r.nextDouble(0.45, 0.62);
            neckBase = ry * r.nextDouble(1.15, 1.4);
            collarDepth = ry * r.nextDouble(0.0, 0.35);
            shoulderW = rx * r.nextDouble(1.6, 2.3);
            shoulderDrop = r.nextDouble(0.15, 0.5);
            necklace = r.nextDouble() < 0.18;
            necklaceY = ry * r.nextDouble(1.05, 1.25);
            necklaceSag = ry * r.nextDouble(0.05, 0.15);
            necklaceTh = ry * r.nextDouble(0.02, 0.04);

            double h = r.nextDouble();
            hair = h < 0.08 ? Hair.NONE : h < 0.45 ? Hair.SHORT : h < 0.85 ? Hair.LONG : Hair.BUN;
            capRx = rx * r.nextDouble(1.06, 1.2);
            capRy = ry * r.nextDouble(1.05, 1.15);
            capLift = ry * r.nextDouble(0.0, 0.08);
            fringe = r.nextDouble() < 0.3;
            hairline = fringe ? browY - ry * r.nextDouble(0.02, 0.1) : -ry * r.nextDouble(0.5, 0.68);
            temple = ry * r.nextDouble(0.1, 0.35);
            part = ry * r.nextDouble(-0.12, 0.12);
            sideBottom = hair == Hair.LONG ? ry * r.nextDouble(0.2, 0.9) : -ry * r.nextDouble(0.0, 0.2);
            longW = rx * r.nextDouble(1.15, 1.4);
            longBottom = ry * r.nextDouble(1.0, 2.0);
            earsCovered = hair == Hair.LONG && r.nextDouble() < 0.5;
            bunX = rx * r.nextDouble(-0.2, 0.2);
            bunY = -ry * r.nextDouble(1.0, 1.15);
            bunR = rx * r.nextDouble(0.28, 0.4);

            glasses = r.nextDouble() < 0.2;
            lensW = eyeRx * r.nextDouble(1.6, 2.1);
            lensH = eyeRx * r.nextDouble(1.0, 1.5);
            frame = r.nextDouble(0.1, 0.3);
            hat = r.nextDouble() < 0.12;
            hatLine = -ry * r.nextDouble(0.45, 0.65);
            hatBrim = rx * r.nextDouble(1.25, 1.6);

            // Colours: each class from its own distribution.
            double tone = r.nextDouble();
            skin = mixRgb(rgb(0.98, 0.85, 0.74), rgb(0.36, 0.22, 0.15), tone);
            skin[0] += r.nextDouble(-0.03, 0.03);
            skin[1] += r.nextDouble(-0.03, 0.03);
            // No pure black hair: brows are drawn darker than the hair, as they usually look, and must stay
            // distinguishable from it (the mask-adherence score compares region colours).
            double[][] hairs = {rgb(0.17, 0.13, 0.1), rgb(0.3, 0.19, 0.1), rgb(0.55, 0.38, 0.2), rgb(0.85, 0.72, 0.45),
                rgb(0.6, 0.25, 0.1), rgb(0.72, 0.72, 0.7), rgb(0.2, 0.12, 0.08)};
            hairC = jitter(r, hairs[r.nextInt(hairs.length)], 0.05);
            brow = mixRgb(hairC, rgb(0.02, 0.015, 0.01), 0.75);
            noseC = mixRgb(skin, rgb(0.7, 0.3, 0.25), 0.4);
            lip = mixRgb(skin, rgb(0.75, 0.25, 0.3), r.nextDouble(0.35, 0.7));
            double[][] irises = {rgb(0.3, 0.18, 0.08), rgb(0.25, 0.45, 0.7), rgb(0.3, 0.5, 0.3), rgb(0.1, 0.08, 0.06)};
            iris = irises[r.nextInt(irises.length)];
            cloth = hsv(r.nextDouble(), r.nextDouble(0.1, 0.9), r.nextDouble(0.15, 0.95));
            cloth2 = hsv(r.nextDouble(), r.nextDouble(0.0, 0.8), r.nextDouble(0.2, 1.0));
            clothPattern = r.nextDouble();
            clothFreq = r.nextDouble(15, 40);
            // Studio backdrops: coloured, neither black nor grey, so they never look like eyes or hair.
            bgA = hsv(r.nextDouble(), r.nextDouble(0.25, 0.7), r.nextDouble(0.45, 0.95));
            bgB = mixRgb(bgA, hsv(r.nextDouble(), r.nextDouble(0.25, 0.7), r.nextDouble(0.45, 0.95)), r.nextDouble(0.2, 0.6));
            bgAngle = r.nextDouble(0, 2 * Math.PI);
            hatC = hsv(r.nextDouble(), r.nextDouble(0.2, 0.9), r.nextDouble(0.2, 0.9));
            metal = r.nextBoolean() ? rgb(0.85, 0.7, 0.3) : rgb(0.8, 0.8, 0.85);
            necklaceC = r.nextDouble() < 0.3 ? rgb(0.93, 0.9, 0.85) : metal;
            lens = jitter(r, rgb(0.35, 0.4, 0.45), 0.15);
            frameC = hsv(r.nextDouble(), r.nextDouble(0, 0.7), r.nextDouble(0.05, 0.5));
            double la = r.nextDouble(0, 2 * Math.PI);
            lightAmount = r.nextDouble(0.15, 0.4);
            lx = Math.cos(la);
            ly = Math.sin(la);
        }

        /** Class at image point (x, y) in [0,1]^2. */
        int classAtImage(double x, double y) {
            double dx = x - cx;
            double dy = y - cy;
            double u = (cos * dx + sin * dy) / scale;
            double v = (-sin * dx + cos * dy) / scale;
            return classAt(u, v);
        }

        /** Topmost layer first: the first shape that covers (u, v) gives the class. */
        int classAt(double u, double v) {
            if (hat && inHat(u, v)) {
                return FaceClass.HAT.index();
            }
            boolean inHead = inHead(u, v);
            if (hair != Hair.NONE && inHairTop(u, v, inHead)) {
                return FaceClass.HAIR.index();
            }
            if (inHead) {
                int m = mouthClass(u, v);
                if (m >= 0) {
                    return m;
                }
                double au = Math.abs(u);
                boolean left = u > 0; // the person's left is the image's right
                if (inBrow(au, v)) {
                    return left ? FaceClass.L_BROW.index() : FaceClass.R_BROW.index();
                }
                if (inEye(au, v)) {
                    return left ? FaceClass.L_EYE.index() : FaceClass.R_EYE.index();
                }
                if (glasses && inGlasses(au, v)) {
                    return FaceClass.EYE_G.index();
                }
                if (inNose(u, v)) {
                    return FaceClass.NOSE.index();
                }
                return FaceClass.SKIN.index();
            }
            double au = Math.abs(u);
            if (glasses && Math.abs(v - eyeY + lensH * 0.3) < lensH * frame * 0.6 && au > eyeX && au < earX * 1.02) {
                return FaceClass.EYE_G.index(); // temple arms reaching the ears
            }
            if (earrings && !earsCovered && inEarring(au, v)) {
                return FaceClass.EAR_R.index();
            }
            if (!earsCovered && inEar(au, v)) {
                return u > 0 ? FaceClass.L_EAR.index() : FaceClass.R_EAR.index();
            }
            if (necklace && inNecklace(au, v)) {
                return FaceClass.NECK_L.index();
            }
            if (inCloth(au, v)) {
                return FaceClass.CLOTH.index();
            }
            if (inNeck(au, v)) {
                return FaceClass.NECK.index();
            }
            if (hair == Hair.LONG && inLongHair(au, v)) {
                return FaceClass.HAIR.index();
            }
            return FaceClass.BACKGROUND.index();
        }

        /** Egg-shaped head: narrower towards the chin. */
        boolean inHead(double u, double v) {
            double t = v > 0 ? v / ry : 0;
            double w = rx * (1 - taper * t * t);
            double a = u / w;
            double b = v / ry;
            return a * a + b * b < 1;
        }

        boolean inHairTop(double u, double v, boolean inHead) {
            if (hair == Hair.BUN) {
                double bu = u - bunX;
                double bv = v - bunY;
                if (bu * bu + bv * bv < bunR * bunR) {
                    return true;
                }
            }
            double a = u / capRx;
            double b = (v + capLift) / capRy;
            if (a * a + b * b >= 1) {
                return false;
            }
            if (inHead) {
                // Hair over the face only above the hairline, which dips at the temples.
                double t = u / rx;
                double line = hairline + temple * t * t + part * t;
                return v < line;
            }
            return v < sideBottom;
        }

        boolean inLongHair(double au, double v) {
            if (v < 0) {
                double a = au / longW;
                double b = v / (capRy * 1.05);
                return a * a + b * b < 1;
            }
            double w = longW * (1 + 0.15 * v / ry);
            double bottom = longBottom * (1 - 0.25 * (au / w) * (au / w));
            return au < w && v < bottom;
        }

        boolean inEye(double au, double v) {
            double du = au - eyeX;
            double dv = v - eyeY - eyeTilt * du;
            double a = du / eyeRx;
            double b = dv / eyeRy;
            return a * a + b * b < 1;
        }

        boolean inBrow(double au, double v) {
            double du = au - eyeX;
            if (Math.abs(du) > browLen) {
                return false;
            }
            double t = du / browLen;
            double centre = browY - browArch * (1 - t * t) + browTilt * du;
            double th = browTh * (1 - 0.4 * Math.max(0, t)); // thinner towards the outer end
            return Math.abs(v - centre) < th;
        }

        boolean inGlasses(double au, double v) {
            double du = (au - eyeX) / lensW;
            double dv = (v - eyeY - lensH * 0.1) / lensH;
            if (du * du * du * du + dv * dv * dv * dv < 1) {
                return true;
            }
            // bridge
            return au < eyeX - lensW * 0.8 && Math.abs(v - eyeY + lensH * 0.3) < lensH * frame * 0.6;
        }

        boolean inNose(double u, double v) {
            if (v < noseTop || v > noseBottom) {
                return false;
            }
            double t = (v - noseTop) / (noseBottom - noseTop);
            double w = noseW * (0.3 + 0.7 * t * t);
            // rounded tip
            if (t > 0.85) {
                double k = (t - 0.85) / 0.15;
                w *= Math.sqrt(Math.max(0, 1 - k * k * 0.8));
            }
            return Math.abs(u) < w;
        }

        /** Lips and mouth: a lens shape split by a curved line; an open mouth shows its inside. */
        int mouthClass(double u, double v) {
            double t = u / mouthW;
            if (t <= -1 || t >= 1) {
                return -1;
            }
            double env = Math.sqrt(1 - t * t);
            double dv = v - (mouthY - smile * t * t);
            double g = gap * 0.5 * env;
            if (dv < -g - upperLip * env || dv > g + lowerLip * env) {
                return -1;
            }
            if (dv < -g) {
                return FaceClass.U_LIP.index();
            }
            if (dv > g) {
                return FaceClass.L_LIP.index();
            }
            return FaceClass.MOUTH.index();
        }

        boolean inEar(double au, double v) {
            double a = (au - earX) / earRx;
            double b = (v - earY) / earRy;
            return a * a + b * b < 1;
        }

        boolean inEarring(double au, double v) {
            double du = au - earX;
            double dv = v - (earY + earRy * 0.95 + earringR);
            double d = Math.sqrt(du * du + dv * dv);
            return earringHoop ? Math.abs(d - earringR) < earringR * 0.3 : d < earringR * 0.8;
        }

        boolean inNeck(double au, double v) {
            return v > 0 && au < neckW * (1 + 0.25 * Math.max(0, v - ry) / ry);
        }

        boolean inCloth(double au, double v) {
            double top = neckBase + shoulderDrop * Math.max(0, au - neckW) * Math.max(0, au - neckW) / rx;
            if (au < neckW * 1.3) {
                double t = au / (neckW * 1.3);
                top = Math.max(top, neckBase + collarDepth * (1 - t * t));
            }
            return v > top && au < shoulderW + (v - neckBase) * 0.6;
        }

        boolean inNecklace(double au, double v) {
            if (au > neckW * 1.15) {
                return false;
            }
            double t = au / neckW;
            double centre = necklaceY + necklaceSag * (1 - t * t);
            return Math.abs(v - centre) < necklaceTh && (inNeck(au, v) || inCloth(au, v));
        }

        boolean inHat(double u, double v) {
            if (Math.abs(v - hatLine) < ry * 0.05 && Math.abs(u) < hatBrim) {
                return true; // brim
            }
            if (v > hatLine) {
                return false;
            }
            double a = u / (capRx * 1.05);
            double b = (v + capLift) / (capRy * 1.1);
            return a * a + b * b < 1;
        }

        /** Colour of class c at image point (x, y), pixel (px, py) of a size-wide grid, in [0,1] RGB. */
        void colour(int c, double x, double y, int px, int py, int size, double[] out) {
            double dx = x - cx;
            double dy = y - cy;
            double u = (cos * dx + sin * dy) / scale;
            double v = (-sin * dx + cos * dy) / scale;
            // Lambert-ish shading on the head as an ellipsoid, light from (lx, ly, 1).
            double nu = u / (rx * 1.2);
            double nv = v / (ry * 1.2);
            double nz2 = 1 - nu * nu - nv * nv;
            double nz = nz2 > 0 ? Math.sqrt(nz2) : 0;
            double lambert = (nu * lx + nv * ly) * lightAmount + nz * 0.25 + 0.8;
            double lowNoise = valueNoise(noiseSeed, x * 6, y * 6) - 0.5;
            double grain = (hash(noiseSeed ^ 0x5DEECE66DL, px, py) - 0.5) * 0.04;
            double[] base;
            double shade = 1;
            switch (FaceClass.of(c)) {
                case SKIN -> {
                    base = skin;
                    shade = lambert + lowNoise * 0.06;
                }
                case NOSE -> {
                    // ruddier than the cheeks, darker sides, lit ridge
                    base = noseC;
                    double t = Math.abs(u) / noseW;
                    shade = lambert * (0.8 - 0.15 * t);
                }
                case L_EAR, R_EAR -> {
                    // ears catch less light and show more blood than the face
                    base = noseC;
                    shade = lambert * 0.7;
                }
                case NECK -> {
                    // in the shadow of the chin
                    base = skin;
                    double under = Math.max(0, 1 - (v - ry * 0.8) / (ry * 0.4));
                    shade = 0.68 - 0.18 * Math.min(1, under);
                }
                case L_EYE, R_EYE -> {
                    double du = Math.abs(u) - eyeX;
                    double dv = v - eyeY;
                    double d = Math.sqrt(du * du + dv * dv) / (eyeRy * 1.1);
                    base = d < 0.55 ? rgb(0.05, 0.04, 0.04) : d < 1.0 ? iris : rgb(0.9, 0.88, 0.85);
                    shade = 0.95;
                }
                case L_BROW, R_BROW -> {
                    base = brow;
                    shade = 0.9 + lowNoise * 0.2;
                }
                case U_LIP -> {
                    base = lip;
                    shade = 0.85 * lambert;
                }
                case L_LIP -> {
                    base = lip;
                    shade = 1.0 * lambert + 0.05;
                }
                case MOUTH -> {
                    double dv = v - (mouthY - smile * (u / mouthW) * (u / mouthW));
                    base = dv < -gap * 0.15 && gap > ry * 0.04 ? rgb(0.92, 0.9, 0.85) : rgb(0.25, 0.06, 0.08);
                    shade = 1;
                }
                case HAIR -> {
                    // strands: noise stretched along v
                    double s = valueNoise(noiseSeed + 7, u * 90, v * 8) - 0.5;
                    base = hairC;
                    shade = (0.8 + s * 0.45 + lowNoise * 0.15) * (0.9 + 0.25 * (nu * lx + nv * ly));
                }
                case HAT -> {
                    base = hatC;
                    shade = lambert * (0.95 + lowNoise * 0.15);
                }
                case EYE_G -> {
                    double du = (Math.abs(u) - eyeX) / lensW;
                    double dv = (v - eyeY - lensH * 0.1) / lensH;
                    double e = du * du * du * du + dv * dv * dv * dv;
                    boolean rim = e > (1 - frame) * (1 - frame) || e >= 1;
                    if (rim) {
                        base = frameC;
                        shade = 1;
                    } else {
                        base = mixRgb(skin, lens, 0.45);
                        shade = lambert;
                    }
                }
                case EAR_R -> {
                    base = metal;
                    shade = 0.8 + 0.4 * (hash(noiseSeed + 3, px, py) > 0.8 ? 1 : 0);
                }
                case NECK_L -> {
                    base = necklaceC;
                    shade = 0.85 + 0.2 * Math.sin(u * 300);
                }
                case CLOTH -> {
                    boolean stripe = clothPattern < 0.3 && Math.sin((v * clothFreq + u * 3) * Math.PI) > 0.3;
                    base = stripe ? cloth2 : cloth;
                    shade = 0.85 + lowNoise * 0.3 - 0.1 * Math.abs(u) / rx;
                }
                default -> {
                    double t = 0.5 + 0.5 * ((x - 0.5) * Math.cos(bgAngle) + (y - 0.5) * Math.sin(bgAngle)) * 1.4;
                    base = mixRgb(bgA, bgB, clamp01(t));
                    shade = 1 + lowNoise * 0.12;
                }
            }
            out[0] = base[0] * shade + grain;
            out[1] = base[1] * shade + grain;
            out[2] = base[2] * shade + grain;
        }
    }

    // ---- small colour and noise helpers ----

    static double[] rgb(double r, double g, double b) {
        return new double[] {r, g, b};
    }

    static double[] mixRgb(double[] a, double[] b, double t) {
        return new double[] {a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t};
    }

    static double[] jitter(SplittableRandom r, double[] c, double amount) {
        return new double[] {clamp01(c[0] + r.nextDouble(-amount, amount)), clamp01(c[1] + r.nextDouble(-amount, amount)),
            clamp01(c[2] + r.nextDouble(-amount, amount))};
    }

    static double[] hsv(double h, double s, double v) {
        double hh = (h - Math.floor(h)) * 6;
        int i = (int) hh;
        double f = hh - i;
        double p = v * (1 - s);
        double q = v * (1 - s * f);
        double t = v * (1 - s * (1 - f));
        return switch (i) {
            case 0 -> rgb(v, t, p);
            case 1 -> rgb(q, v, p);
            case 2 -> rgb(p, v, t);
            case 3 -> rgb(p, q, v);
            case 4 -> rgb(t, p, v);
            default -> rgb(v, p, q);
        };
    }

    /** SplitMix64 finaliser: spreads (seed, index) over the whole state space. */
    static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /** Uniform in [0, 1) from a lattice point. */
    static double hash(long seed, long x, long y) {
        return (mix(seed ^ (x * 0x632BE59BD9B4E019L) ^ (y * 0x8CB92BA72F3D8DD7L)) >>> 11) * 0x1.0p-53;
    }

    /** Smooth value noise in [0, 1): bilinear between lattice hashes with a smoothstep. */
    static double valueNoise(long seed, double x, double y) {
        double fx = Math.floor(x);
        double fy = Math.floor(y);
        long ix = (long) fx;
        long iy = (long) fy;
        double tx = x - fx;
        double ty = y - fy;
        tx = tx * tx * (3 - 2 * tx);
        ty = ty * ty * (3 - 2 * ty);
        double a = hash(seed, ix, iy);
        double b = hash(seed, ix + 1, iy);
        double c = hash(seed, ix, iy + 1);
        double d = hash(seed, ix + 1, iy + 1);
        return a + (b - a) * tx + (c - a) * ty + (a - b - c + d) * tx * ty;
    }
}
