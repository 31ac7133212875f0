package dev.sisma.ui.swt.internal.doc;

/**
 * One undoable change. Pixel edits keep only the pixels they changed (index, before, after), so
 * history costs memory in proportion to what was painted, not to the mask size times the edits.
 */
abstract sealed class Edit permits Edit.Pixels, Edit.Replace {
    final long serial;
    final String name;

    Edit(long serial, String name) {
        this.serial = serial;
        this.name = name;
    }

    /** Approximate heap bytes held, for the history size shown to the user. */
    abstract long bytes();

    static final class Pixels extends Edit {
        final int[] index;
        final byte[] before;
        final byte[] after;
        final int x0, y0, x1, y1;

        Pixels(long serial, String name, int[] index, byte[] before, byte[] after, int x0, int y0, int x1, int y1) {
            super(serial, name);
            this.index = index;
            this.before = before;
            this.after = after;
            this.x0 = x0;
            this.y0 = y0;
            this.x1 = x1;
            this.y1 = y1;
        }

        @Override
        long bytes() {
            return index.length * 6L + 64;
        }
    }

    static final class Replace extends Edit {
        final int beforeWidth, beforeHeight, afterWidth, afterHeight;
        final byte[] before;
        final byte[] after;

        Replace(long serial, String name, int beforeWidth, int beforeHeight, byte[] before, int afterWidth,
                int afterHeight, byte[] after) {
            super(serial, name);
            this.beforeWidth = beforeWidth;
            this.beforeHeight = beforeHeight;
            this.before = before;
            this.afterWidth = afterWidth;
            this.afterHeight = afterHeight;
            this.after = after;
        }

        @Override
        long bytes() {
            return before.length + (long) after.length + 64;
        }
    }
}
