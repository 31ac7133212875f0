package dev.sisma.data.image;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.List;

/** Contact sheets: tiles laid out in a grid, each scaled to one tile size (nearest neighbour, so masks stay crisp). */
public final class Sheets {
    private Sheets() {
    }

    /**
     * Lays {@code tiles} out left to right, {@code columns} per row, each drawn at
     * {@code tile x tile} with {@code gap} pixels of {@code gapRgb} between and around them.
     */
    public static BufferedImage grid(List<BufferedImage> tiles, int columns, int tile, int gap, int gapRgb) {
        if (tiles.isEmpty() || columns <= 0 || tile <= 0 || gap < 0) {
            throw new IllegalArgumentException("need tiles, columns > 0, tile > 0 and gap >= 0");
        }
        int rows = (tiles.size() + columns - 1) / columns;
        int cols = Math.min(columns, tiles.size());
        BufferedImage sheet = new BufferedImage(gap + cols * (tile + gap), gap + rows * (tile + gap),
                BufferedImage.TYPE_INT_RGB);
        Graphics2D g = sheet.createGraphics();
        try {
            g.setColor(new Color(gapRgb));
            g.fillRect(0, 0, sheet.getWidth(), sheet.getHeight());
            g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_NEAREST_NEIGHBOR);
            for (int i = 0; i < tiles.size(); i++) {
                int x = gap + (i % columns) * (tile + gap);
                int y = gap + (i / columns) * (tile + gap);
                g.drawImage(tiles.get(i), x, y, tile, tile, null);
            }
        } finally {
            g.dispose();
        }
        return sheet;
    }

    /** One row: {@link #grid} with all tiles in a single row. */
    public static BufferedImage row(List<BufferedImage> tiles, int tile, int gap, int gapRgb) {
        return grid(tiles, tiles.size(), tile, gap, gapRgb);
    }
}
