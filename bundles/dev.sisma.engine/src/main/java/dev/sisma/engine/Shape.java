package dev.sisma.engine;

import java.util.Arrays;

/** An immutable tensor shape: sizes of each axis, row-major (last axis fastest). Rank 0 is a scalar. */
public final class Shape {
    private final int[] dims;
    private final long size;

    private Shape(int[] dims) {
        long s = 1;
        for (int d : dims) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in " + Arrays.toString(dims));
            s = Math.multiplyExact(s, d);
        }
        this.dims = dims;
        this.size = s;
    }

    public static Shape of(int... dims) {
        return new Shape(dims.clone());
    }

    public int rank() { return dims.length; }

    /** Size of axis {@code i}; negative i counts from the end (-1 is the last axis). */
    public int dim(int i) { return dims[axis(i)]; }

    /** Number of elements. */
    public long size() { return size; }

    public int[] dims() { return dims.clone(); }

    /** Normalises a possibly negative axis index, checking its range. */
    public int axis(int i) {
        int a = i < 0 ? i + dims.length : i;
        if (a < 0 || a >= dims.length) throw new IllegalArgumentException("axis " + i + " out of range for shape " + this);
        return a;
    }

    /** Product of the sizes of axes [from, to). */
    public long prod(int from, int to) {
        long p = 1;
        for (int i = from; i < to; i++) p *= dims[i];
        return p;
    }

    /** Contiguous row-major strides in elements. */
    public long[] strides() {
        long[] s = new long[dims.length];
        long acc = 1;
        for (int i = dims.length - 1; i >= 0; i--) { s[i] = acc; acc *= dims[i]; }
        return s;
    }

    /** This shape with axis {@code i} replaced by {@code size}. */
    public Shape with(int i, int size) {
        int[] d = dims.clone();
        d[axis(i)] = size;
        return new Shape(d);
    }

    /** NumPy broadcasting of two shapes; throws naming both shapes when incompatible. */
    public static Shape broadcast(Shape a, Shape b) {
        int r = Math.max(a.rank(), b.rank());
        int[] out = new int[r];
        for (int i = 0; i < r; i++) {
            int da = i < r - a.rank() ? 1 : a.dims[i - (r - a.rank())];
            int db = i < r - b.rank() ? 1 : b.dims[i - (r - b.rank())];
            if (da != db && da != 1 && db != 1)
                throw new IllegalArgumentException("shapes " + a + " and " + b + " do not broadcast");
            out[i] = da == 1 ? db : da;
        }
        return new Shape(out);
    }

    /** Strides to read this shape broadcast to {@code target} (0 on broadcast axes). */
    public long[] broadcastStrides(Shape target) {
        int r = target.rank(), off = r - dims.length;
        if (off < 0) throw new IllegalArgumentException("cannot broadcast " + this + " to " + target);
        long[] own = strides();
        long[] s = new long[r];
        for (int i = 0; i < dims.length; i++) {
            int t = target.dims[i + off];
            if (dims[i] == t) s[i + off] = own[i];
            else if (dims[i] == 1) s[i + off] = 0;
            else throw new IllegalArgumentException("cannot broadcast " + this + " to " + target);
        }
        return s;
    }

    @Override public boolean equals(Object o) { return o instanceof Shape s && Arrays.equals(dims, s.dims); }

    @Override public int hashCode() { return Arrays.hashCode(dims); }

    @Override public String toString() { return Arrays.toString(dims); }
}
