package dev.sisma.ui.swt.internal.doc;

/**
 * A brush footprint: round or square, 1 to 100 pixels across. The footprint is precomputed as one
 * horizontal span per row so stamping it is a few array fills, not a per-pixel shape test.
 */
public final class Brush {
    public enum Shape {
        ROUND, SQUARE
    }

    public static final int MIN_SIZE = 1;
    public static final int MAX_SIZE = 100;

    private final Shape shape;
    private final int size;
    /** Offset of the first row and first column relative to the brush centre pixel. */
    private final int lo;
    /** Per row (dy = lo + i): first and last dx covered, or first > last when the row is empty. */
    private final int[] spanFrom;
    private final int[] spanTo;

    public Brush(Shape shape, int size) {
        if (size < MIN_SIZE || size > MAX_SIZE) {
            throw new IllegalArgumentException("brush size must be " + MIN_SIZE + ".." + MAX_SIZE + ", got " + size);
        }
        this.shape = shape;
        this.size = size;
        this.lo = -(size / 2);
        this.spanFrom = new int[size];
        this.spanTo = new int[size];
        // Centre of the footprint in offset coordinates: for even sizes it lies between pixels.
        double c = lo + (size - 1) / 2.0;
        double r2 = (size / 2.0) * (size / 2.0);
        for (int i = 0; i < size; i++) {
            int dy = lo + i;
            if (shape == Shape.SQUARE || size <= 2) {
                spanFrom[i] = lo;
                spanTo[i] = lo + size - 1;
                continue;
            }
            int from = Integer.MAX_VALUE;
            int to = Integer.MIN_VALUE;
            for (int j = 0; j < size; j++) {
                int dx = lo + j;
                double ex = dx - c;
                double ey = dy - c;
                if (ex * ex + ey * ey <= r2) {
                    from = Math.min(from, dx);
                    to = Math.max(to, dx);
                }
            }
            spanFrom[i] = from;
            spanTo[i] = to;
        }
    }

    public Shape shape() {
        return shape;
    }

    public int size() {
        return size;
    }

    /** Row offset (relative to the centre pixel) of the first footprint row. */
    public int top() {
        return lo;
    }

    public int rowCount() {
        return size;
    }

    /** First dx covered by row {@code i} (0-based from {@link #top()}). */
    public int from(int i) {
        return spanFrom[i];
    }

    /** Last dx covered by row {@code i}; below {@link #from(int)} when the row is empty. */
    public int to(int i) {
        return spanTo[i];
    }

    /** Whether the footprint centred on the origin covers offset (dx, dy). */
    public boolean covers(int dx, int dy) {
        int i = dy - lo;
        return i >= 0 && i < size && dx >= spanFrom[i] && dx <= spanTo[i];
    }

    public Brush withSize(int newSize) {
        return new Brush(shape, Math.max(MIN_SIZE, Math.min(MAX_SIZE, newSize)));
    }

    public Brush withShape(Shape newShape) {
        return new Brush(newShape, size);
    }

    @Override
    public String toString() {
        return shape.name().toLowerCase(java.util.Locale.ROOT) + " " + size + " px";
    }
}
