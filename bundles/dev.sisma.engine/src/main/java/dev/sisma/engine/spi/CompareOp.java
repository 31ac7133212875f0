package dev.sisma.engine.spi;

/**
 * Elementwise comparisons, see {@link Backend#compare}: {@code out = (a op b) ? 1 : 0}, IEEE
 * semantics (a comparison with NaN is false, except {@link #NE}, which is true).
 */
public enum CompareOp {
    EQ, NE, LT, LE, GT, GE;

    /** The comparison on two floats, the reference every backend follows. */
    public boolean test(float a, float b) {
        return switch (this) {
            case EQ -> a == b;
            case NE -> a != b;
            case LT -> a < b;
            case LE -> a <= b;
            case GT -> a > b;
            case GE -> a >= b;
        };
    }
}
