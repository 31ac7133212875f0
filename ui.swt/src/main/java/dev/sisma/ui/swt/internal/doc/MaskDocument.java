package dev.sisma.ui.swt.internal.doc;

import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Arrays;
import java.util.Deque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;

/**
 * The mask being edited: one class index per pixel, and every edit as an undoable command.
 *
 * <p>Undo and redo are exact and unlimited (within memory): a pixel edit stores only the pixels it
 * changed. The document is "dirty" when the current point in the history differs from the one last
 * saved or loaded; undoing back to the saved point makes it clean again.
 *
 * <p>Not thread-safe: one thread (the UI thread in the editor) makes all edits. Other threads take
 * a {@link #snapshot()}.
 */
public final class MaskDocument {
    /** Pass as {@code onlyOver} to paint over every class. */
    public static final int ANY = -1;

    private int width;
    private int height;
    private byte[] classes;
    /** Per pixel: the serial of the last edit that recorded it, so an edit records each pixel once. */
    private int[] stamp;

    private final Deque<Edit> undo = new ArrayDeque<>();
    private final Deque<Edit> redo = new ArrayDeque<>();
    private final List<DocumentListener> listeners = new CopyOnWriteArrayList<>();
    private long serials;
    private long baseSerial;
    private long savedSerial;
    private long revision;
    private Path file;
    private Stroke openStroke;

    public MaskDocument(int width, int height) {
        this(new Mask(width, height, new byte[width * height]), null);
    }

    public MaskDocument(Mask mask, Path file) {
        install(mask.width(), mask.height(), mask.copyOfClasses());
        this.file = file;
        baseSerial = ++serials;
        savedSerial = baseSerial;
    }

    // ---------------------------------------------------------------- reading

    public int width() {
        return width;
    }

    public int height() {
        return height;
    }

    public int classAt(int x, int y) {
        return classes[y * width + x];
    }

    public boolean contains(int x, int y) {
        return x >= 0 && y >= 0 && x < width && y < height;
    }

    /** An immutable copy of the current pixels, safe to hand to another thread. */
    public Mask snapshot() {
        return new Mask(width, height, classes.clone());
    }

    /** Class at row-major {@code index}; the renderer reads pixels this way without a snapshot copy. */
    public byte rawClass(int index) {
        return classes[index];
    }

    /** Number of pixels of each class. */
    public int[] histogram() {
        int[] h = new int[FaceClass.COUNT];
        for (byte b : classes) {
            h[b]++;
        }
        return h;
    }

    /** Increases with every change of pixels, history or saved state. */
    public long revision() {
        return revision;
    }

    public Path file() {
        return file;
    }

    // ---------------------------------------------------------------- listeners

    public void addListener(DocumentListener l) {
        listeners.add(l);
    }

    public void removeListener(DocumentListener l) {
        listeners.remove(l);
    }

    private void firePixels(Change c) {
        revision++;
        for (DocumentListener l : listeners) {
            l.pixelsChanged(c);
        }
    }

    private void fireState() {
        revision++;
        for (DocumentListener l : listeners) {
            l.stateChanged(this);
        }
    }

    // ---------------------------------------------------------------- files and dirty state

    /** Replaces the whole document (new or opened file): clears the history; the result is clean. */
    public void load(Mask mask, Path newFile) {
        closeStroke();
        install(mask.width(), mask.height(), mask.copyOfClasses());
        undo.clear();
        redo.clear();
        baseSerial = ++serials;
        savedSerial = baseSerial;
        file = newFile;
        firePixels(new Change(0, 0, width, height, true));
        fireState();
    }

    public boolean isDirty() {
        return currentSerial() != savedSerial;
    }

    /** The current state was written to {@code savedTo} (null: keep the current file). */
    public void markSaved(Path savedTo) {
        closeStroke();
        if (savedTo != null) {
            file = savedTo;
        }
        savedSerial = currentSerial();
        fireState();
    }

    private long currentSerial() {
        return undo.isEmpty() ? baseSerial : undo.peek().serial;
    }

    // ---------------------------------------------------------------- history

    public boolean canUndo() {
        return openStroke != null || !undo.isEmpty();
    }

    public boolean canRedo() {
        return openStroke == null && !redo.isEmpty();
    }

    /** Name of the edit {@link #undo()} would revert, or null. */
    public String undoName() {
        return undo.isEmpty() ? null : undo.peek().name;
    }

    public String redoName() {
        return redo.isEmpty() ? null : redo.peek().name;
    }

    public int undoCount() {
        return undo.size();
    }

    public int redoCount() {
        return redo.size();
    }

    /** Approximate memory held by the history. */
    public long historyBytes() {
        long b = 0;
        for (Edit e : undo) {
            b += e.bytes();
        }
        for (Edit e : redo) {
            b += e.bytes();
        }
        return b;
    }

    public boolean undo() {
        return step(undo, redo, true);
    }

    public boolean redo() {
        return step(redo, undo, false);
    }

    /** Moves the newest edit of {@code from} to {@code to}, restoring its before (undo) or after (redo) state. */
    private boolean step(Deque<Edit> from, Deque<Edit> to, boolean back) {
        closeStroke();
        Edit e = from.poll();
        if (e == null) {
            return false;
        }
        to.push(e);
        if (e instanceof Edit.Pixels p) {
            byte[] values = back ? p.before : p.after;
            for (int i = 0; i < p.index.length; i++) {
                classes[p.index[i]] = values[i];
            }
            firePixels(new Change(p.x0, p.y0, p.x1 - p.x0 + 1, p.y1 - p.y0 + 1, false));
        } else if (e instanceof Edit.Replace r) {
            if (back) {
                install(r.beforeWidth, r.beforeHeight, r.before.clone());
            } else {
                install(r.afterWidth, r.afterHeight, r.after.clone());
            }
            firePixels(new Change(0, 0, width, height, r.beforeWidth != r.afterWidth || r.beforeHeight != r.afterHeight));
        }
        fireState();
        return true;
    }

    private void push(Edit e) {
        undo.push(e);
        redo.clear();
        fireState();
    }

    private void install(int w, int h, byte[] c) {
        width = w;
        height = h;
        classes = c;
        if (stamp == null || stamp.length != c.length) {
            stamp = new int[c.length];
        } else {
            Arrays.fill(stamp, 0);
        }
    }

    // ---------------------------------------------------------------- edits

    /** Replaces every pixel (any size) as one undoable edit; false when nothing would change. */
    public boolean setMask(Mask mask, String name) {
        closeStroke();
        byte[] next = mask.copyOfClasses();
        if (mask.width() == width && mask.height() == height && Arrays.equals(next, classes)) {
            return false;
        }
        Edit.Replace r = new Edit.Replace(++serials, name, width, height, classes.clone(), mask.width(), mask.height(),
                next.clone());
        boolean resized = mask.width() != width || mask.height() != height;
        install(mask.width(), mask.height(), next);
        firePixels(new Change(0, 0, width, height, resized));
        push(r);
        return true;
    }

    /**
     * Starts an interactive stroke: pixels change at once with every {@link Stroke#to}, and the whole
     * stroke becomes one undoable edit at {@link Stroke#end()}.
     *
     * @param onlyOver a class index: only pixels of that class are painted; {@link #ANY} for all
     */
    public Stroke beginStroke(Brush brush, int cls, int onlyOver, String name) {
        closeStroke();
        checkClass(cls);
        openStroke = new Stroke(new Recorder(name), brush, (byte) cls, onlyOver);
        return openStroke;
    }

    /** A whole stroke through points {@code xy = {x0, y0, x1, y1, ...}} as one edit. */
    public boolean stroke(Brush brush, int cls, int onlyOver, int... xy) {
        Stroke s = beginStroke(brush, cls, onlyOver, cls == 0 ? "Erase" : "Brush " + FaceClass.of(cls).partName());
        for (int i = 0; i + 1 < xy.length; i += 2) {
            s.to(xy[i], xy[i + 1]);
        }
        return s.end();
    }

    /** Fills the 4-connected region of the class at (x, y) with {@code cls}; false when nothing changed. */
    public boolean floodFill(int x, int y, int cls) {
        closeStroke();
        checkClass(cls);
        if (!contains(x, y) || classAt(x, y) == cls) {
            return false;
        }
        Recorder rec = new Recorder("Fill " + FaceClass.of(cls).partName());
        byte target = classes[y * width + x];
        byte c = (byte) cls;
        // Scanline fill with an explicit stack: recursion would overflow on a 1024x1024 region.
        int[] stack = new int[64];
        int sp = 0;
        stack[sp++] = x;
        stack[sp++] = y;
        while (sp > 0) {
            int py = stack[--sp];
            int px = stack[--sp];
            int row = py * width;
            if (classes[row + px] != target) {
                continue;
            }
            int l = px;
            while (l > 0 && classes[row + l - 1] == target) {
                l--;
            }
            int r = px;
            while (r < width - 1 && classes[row + r + 1] == target) {
                r++;
            }
            for (int i = l; i <= r; i++) {
                rec.set(row + i, c);
            }
            rec.include(l, py, r, py);
            for (int ny = py - 1; ny <= py + 1; ny += 2) {
                if (ny < 0 || ny >= height) {
                    continue;
                }
                int nrow = ny * width;
                boolean inRun = false;
                for (int i = l; i <= r; i++) {
                    boolean t = classes[nrow + i] == target;
                    if (t && !inRun) {
                        if (sp + 2 > stack.length) {
                            stack = Arrays.copyOf(stack, stack.length * 2);
                        }
                        stack[sp++] = i;
                        stack[sp++] = ny;
                    }
                    inRun = t;
                }
            }
        }
        return commit(rec);
    }

    /** Fills the rectangle with corners (x0, y0) and (x1, y1), inclusive, clipped to the mask. */
    public boolean fillRect(int x0, int y0, int x1, int y1, int cls, int onlyOver) {
        closeStroke();
        checkClass(cls);
        Recorder rec = new Recorder("Rectangle " + FaceClass.of(cls).partName());
        int ax = Math.max(0, Math.min(x0, x1)), bx = Math.min(width - 1, Math.max(x0, x1));
        int ay = Math.max(0, Math.min(y0, y1)), by = Math.min(height - 1, Math.max(y0, y1));
        for (int y = ay; y <= by; y++) {
            rec.span(y, ax, bx, (byte) cls, onlyOver);
        }
        return commit(rec);
    }

    /** Fills the ellipse inscribed in the rectangle with corners (x0, y0) and (x1, y1), inclusive. */
    public boolean fillEllipse(int x0, int y0, int x1, int y1, int cls, int onlyOver) {
        closeStroke();
        checkClass(cls);
        Recorder rec = new Recorder("Ellipse " + FaceClass.of(cls).partName());
        int ax = Math.min(x0, x1), bx = Math.max(x0, x1), ay = Math.min(y0, y1), by = Math.max(y0, y1);
        double cx = (ax + bx) / 2.0, cy = (ay + by) / 2.0;
        double rx = (bx - ax + 1) / 2.0, ry = (by - ay + 1) / 2.0;
        for (int y = Math.max(0, ay); y <= Math.min(height - 1, by); y++) {
            double t = (y - cy) / ry;
            double half = rx * Math.sqrt(Math.max(0, 1 - t * t));
            // A pixel is in when its centre is: |x - cx| <= half.
            int from = (int) Math.ceil(cx - half);
            int to = (int) Math.floor(cx + half);
            rec.span(y, Math.max(0, from), Math.min(width - 1, to), (byte) cls, onlyOver);
        }
        return commit(rec);
    }

    private void closeStroke() {
        if (openStroke != null) {
            openStroke.end();
        }
    }

    private boolean commit(Recorder rec) {
        Edit e = rec.finish();
        if (e == null) {
            return false;
        }
        firePixels(new Change(rec.x0, rec.y0, rec.x1 - rec.x0 + 1, rec.y1 - rec.y0 + 1, false));
        push(e);
        return true;
    }

    private static void checkClass(int cls) {
        FaceClass.of(cls);
    }

    /** Collects the pixels one edit changes, each once, with their old value. */
    private final class Recorder {
        final String name;
        final int serial;
        int[] index = new int[256];
        byte[] before = new byte[256];
        int n;
        int x0 = Integer.MAX_VALUE, y0 = Integer.MAX_VALUE, x1 = Integer.MIN_VALUE, y1 = Integer.MIN_VALUE;

        Recorder(String name) {
            this.name = name;
            this.serial = (int) ++serials;
        }

        void set(int i, byte c) {
            byte old = classes[i];
            if (old == c) {
                return;
            }
            if (stamp[i] != serial) {
                stamp[i] = serial;
                if (n == index.length) {
                    index = Arrays.copyOf(index, n * 2);
                    before = Arrays.copyOf(before, n * 2);
                }
                index[n] = i;
                before[n] = old;
                n++;
            }
            classes[i] = c;
        }

        /** Sets pixels x0..x1 of row y (already clipped) to c, honouring onlyOver. */
        void span(int y, int from, int to, byte c, int onlyOver) {
            if (from > to) {
                return;
            }
            int row = y * width;
            boolean any = false;
            for (int x = from; x <= to; x++) {
                if (onlyOver == ANY || classes[row + x] == onlyOver) {
                    set(row + x, c);
                    any = true;
                }
            }
            if (any) {
                include(from, y, to, y);
            }
        }

        void include(int ax, int ay, int bx, int by) {
            x0 = Math.min(x0, ax);
            y0 = Math.min(y0, ay);
            x1 = Math.max(x1, bx);
            y1 = Math.max(y1, by);
        }

        /** The edit, or null when no pixel ended up different (e.g. painted back to its old class). */
        Edit finish() {
            int kept = 0;
            for (int k = 0; k < n; k++) {
                if (classes[index[k]] != before[k]) {
                    index[kept] = index[k];
                    before[kept] = before[k];
                    kept++;
                }
            }
            if (kept == 0) {
                return null;
            }
            int[] idx = Arrays.copyOf(index, kept);
            byte[] b = Arrays.copyOf(before, kept);
            byte[] a = new byte[kept];
            for (int k = 0; k < kept; k++) {
                a[k] = classes[idx[k]];
            }
            return new Edit.Pixels(serial, name, idx, b, a, x0, y0, x1, y1);
        }
    }

    /** An open brush or eraser stroke; see {@link #beginStroke}. */
    public final class Stroke {
        private final Recorder rec;
        private final Brush brush;
        private final byte cls;
        private final int onlyOver;
        private int lastX, lastY;
        private boolean started;
        private boolean ended;

        private Stroke(Recorder rec, Brush brush, byte cls, int onlyOver) {
            this.rec = rec;
            this.brush = brush;
            this.cls = cls;
            this.onlyOver = onlyOver;
        }

        /** Paints a line from the previous point (or a dab, on the first call) to (x, y); may lie outside. */
        public void to(int x, int y) {
            if (ended) {
                throw new IllegalStateException("the stroke has ended");
            }
            int fx = started ? lastX : x, fy = started ? lastY : y;
            started = true;
            lastX = x;
            lastY = y;
            int bx0 = Integer.MAX_VALUE, by0 = Integer.MAX_VALUE, bx1 = Integer.MIN_VALUE, by1 = Integer.MIN_VALUE;
            // Bresenham: one dab per pixel of the line; dabs overlap but each pixel is recorded once.
            int dx = Math.abs(x - fx), dy = -Math.abs(y - fy);
            int sx = fx < x ? 1 : -1, sy = fy < y ? 1 : -1;
            int err = dx + dy;
            int cx = fx, cy = fy;
            while (true) {
                dab(cx, cy);
                bx0 = Math.min(bx0, cx);
                by0 = Math.min(by0, cy);
                bx1 = Math.max(bx1, cx);
                by1 = Math.max(by1, cy);
                if (cx == x && cy == y) {
                    break;
                }
                int e2 = 2 * err;
                if (e2 >= dy) {
                    err += dy;
                    cx += sx;
                }
                if (e2 <= dx) {
                    err += dx;
                    cy += sy;
                }
            }
            int top = brush.top(), bottom = top + brush.rowCount() - 1;
            int ax = Math.max(0, bx0 + top), ay = Math.max(0, by0 + top);
            int bx = Math.min(width - 1, bx1 + bottom), by = Math.min(height - 1, by1 + bottom);
            if (ax <= bx && ay <= by) {
                firePixels(new Change(ax, ay, bx - ax + 1, by - ay + 1, false));
            }
        }

        private void dab(int cx, int cy) {
            int top = brush.top();
            for (int i = 0; i < brush.rowCount(); i++) {
                int y = cy + top + i;
                if (y < 0 || y >= height) {
                    continue;
                }
                int from = Math.max(0, cx + brush.from(i));
                int to = Math.min(width - 1, cx + brush.to(i));
                rec.span(y, from, to, cls, onlyOver);
            }
        }

        /** Ends the stroke; true when it changed pixels (and so became an undoable edit). */
        public boolean end() {
            if (ended) {
                return false;
            }
            ended = true;
            openStroke = null;
            Edit e = rec.finish();
            if (e == null) {
                fireState();
                return false;
            }
            push(e);
            return true;
        }

        public boolean isOpen() {
            return !ended;
        }
    }
}
