package dev.sisma.engine.spi;

/** Reductions over one axis, see {@link Backend#reduce}. */
public enum ReduceOp {
    SUM, MEAN, MAX
}
