package dev.sisma.engine.spi;

/** Elementwise binary primitives: {@code out = a op b}. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV,
    /** max(a, b); the gradient goes to a where a >= b. */
    MAX,
    /** min(a, b); the gradient goes to a where a <= b. */
    MIN
}
