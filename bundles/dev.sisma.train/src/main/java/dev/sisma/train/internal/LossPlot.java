package dev.sisma.train.internal;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Path2D;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Locale;

/**
 * Draws the loss curve as a PNG: raw points in grey, an exponentially smoothed curve in blue,
 * axes with tick labels; the loss axis is logarithmic when the loss spans more than a factor 5.
 */
public final class LossPlot {
    private static final int W = 900, H = 450, LEFT = 80, RIGHT = 20, TOP = 36, BOTTOM = 50;

    private LossPlot() {
    }

    /** Renders {@code series} (titled {@code title}) and writes it atomically to {@code file}. */
    public static void write(LossSeries series, String title, Path file) throws IOException {
        dev.sisma.data.image.ImageFiles.writePng(render(series, title), file);
    }

    public static BufferedImage render(LossSeries s, String title) {
        BufferedImage img = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, W, H);
            int pw = W - LEFT - RIGHT, ph = H - TOP - BOTTOM;
            g.setColor(Color.BLACK);
            g.drawRect(LEFT, TOP, pw, ph);
            label(g, title, LEFT, TOP - 12, Font.BOLD);
            int n = s.size();
            if (n == 0) {
                label(g, "no steps yet", LEFT + pw / 2 - 30, TOP + ph / 2, Font.PLAIN);
                return img;
            }
            double lo = Double.POSITIVE_INFINITY, hi = Double.NEGATIVE_INFINITY;
            for (int i = 0; i < n; i++) {
                lo = Math.min(lo, s.loss(i));
                hi = Math.max(hi, s.loss(i));
            }
            boolean log = lo > 0 && hi / lo > 5;
            double ylo = log ? Math.log10(lo) : Math.min(0, lo), yhi = log ? Math.log10(hi) : hi;
            if (yhi - ylo < 1e-12) {
                yhi = ylo + 1;
            }
            double pad = (yhi - ylo) * 0.05;
            ylo -= log ? pad : 0;
            yhi += pad;
            long x0 = Math.min(s.step(0), 0), x1 = Math.max(s.step(n - 1), x0 + 1);
            // ticks
            g.setFont(g.getFont().deriveFont(11f));
            for (int k = 0; k <= 5; k++) {
                double xv = x0 + (x1 - x0) * k / 5.0;
                int px = LEFT + (int) Math.round(pw * k / 5.0);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(px, TOP + 1, px, TOP + ph - 1);
                g.setColor(Color.BLACK);
                g.drawLine(px, TOP + ph, px, TOP + ph + 5);
                label(g, Long.toString(Math.round(xv)), px - 12, TOP + ph + 18, Font.PLAIN);
                double yv = ylo + (yhi - ylo) * k / 5.0;
                int py = TOP + ph - (int) Math.round(ph * k / 5.0);
                g.setColor(new Color(230, 230, 230));
                g.drawLine(LEFT + 1, py, LEFT + pw - 1, py);
                g.setColor(Color.BLACK);
                g.drawLine(LEFT - 5, py, LEFT, py);
                label(g, format(log ? Math.pow(10, yv) : yv), 8, py + 4, Font.PLAIN);
            }
            label(g, "step", LEFT + pw / 2 - 10, H - 10, Font.PLAIN);
            label(g, log ? "loss (log)" : "loss", 8, TOP - 12 + 0, Font.PLAIN);
            // raw points
            g.setColor(new Color(185, 185, 185));
            for (int i = 0; i < n; i++) {
                int px = LEFT + (int) Math.round(pw * (double) (s.step(i) - x0) / (x1 - x0));
                int py = TOP + ph - (int) Math.round(ph * (y(s.loss(i), log) - ylo) / (yhi - ylo));
                g.fillRect(px, Math.max(TOP, Math.min(TOP + ph, py)), 2, 2);
            }
            // smoothed curve: EMA whose span is ~2% of the points
            double alpha = 1.0 / Math.max(1, n / 50.0);
            double sm = s.loss(0);
            Path2D.Double path = new Path2D.Double();
            for (int i = 0; i < n; i++) {
                sm += alpha * (s.loss(i) - sm);
                double px = LEFT + pw * (double) (s.step(i) - x0) / (x1 - x0);
                double py = TOP + ph - ph * (y(sm, log) - ylo) / (yhi - ylo);
                if (i == 0) {
                    path.moveTo(px, py);
                } else {
                    path.lineTo(px, py);
                }
            }
            g.setColor(new Color(20, 90, 200));
            g.setStroke(new BasicStroke(2f));
            g.draw(path);
            label(g, String.format(Locale.ROOT, "last %s (smoothed %s)", format(s.loss(n - 1)), format(sm)),
                    LEFT + pw - 220, TOP - 12, Font.PLAIN);
        } finally {
            g.dispose();
        }
        return img;
    }

    private static double y(double loss, boolean log) {
        return log ? Math.log10(Math.max(loss, 1e-30)) : loss;
    }

    static String format(double v) {
        double a = Math.abs(v);
        if (a != 0 && (a < 1e-2 || a >= 1e4)) {
            return String.format(Locale.ROOT, "%.2e", v);
        }
        return String.format(Locale.ROOT, "%.4f", v);
    }

    private static void label(Graphics2D g, String text, int x, int y, int style) {
        try {
            g.setFont(g.getFont().deriveFont(style));
            g.drawString(text, x, y);
        } catch (RuntimeException | Error e) {
            // a headless JRE without any font cannot draw text; the curve itself is still worth having
        }
    }
}
