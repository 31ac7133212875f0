package dev.sisma.engine.spi;

import java.util.Set;

/**
 * The compute operations of {@link Backend}, one per method (a method's forward and backward are
 * separate ops), for {@link Backend#supports}. The memory methods (allocate, upload, download, map,
 * copy) are not listed: every backend has them.
 * <p>A <em>primitive</em> is abstract in {@link Backend}: every backend implements it. Every other
 * op has a default method in {@link Backend}, a composite written once from the primitives listed
 * in {@link #uses()} (and the memory methods); a backend overrides it with a faster version when it
 * has one.
 */
public enum BackendOp {
    GEMM(true), UNARY(true), BINARY(true), COMPARE(true), SELECT(true), REDUCE(true),
    FILL(false),
    AFFINE(false, BINARY),
    UNARY_BACKWARD(false, UNARY, BINARY, COMPARE, SELECT),
    SOFTMAX(false, REDUCE, BINARY, UNARY),
    SOFTMAX_BACKWARD(false, REDUCE, BINARY),
    LAYER_NORM(false, REDUCE, BINARY, UNARY),
    LAYER_NORM_BACKWARD(false, REDUCE, BINARY),
    GROUP_NORM(false, REDUCE, BINARY, UNARY),
    GROUP_NORM_BACKWARD(false, REDUCE, BINARY),
    CONV2D(false, GEMM, BINARY),
    CONV2D_BACKWARD_INPUT(false, GEMM, BINARY),
    CONV2D_BACKWARD_WEIGHT(false, GEMM, REDUCE),
    DEPTHWISE_CAUSAL_CONV1D(false, BINARY),
    DEPTHWISE_CAUSAL_CONV1D_BACKWARD(false, BINARY, REDUCE),
    GATHER(false),
    SCATTER_ADD(false, GEMM),
    SELECTIVE_SCAN(false, BINARY, UNARY, REDUCE),
    SELECTIVE_SCAN_BACKWARD(false, BINARY, UNARY, REDUCE),
    MODULATE(false, BINARY),
    LAYER_NORM_MODULATE(false, REDUCE, BINARY, UNARY),
    GATED_RESIDUAL(false, BINARY),
    SILU_GATE(false, UNARY, BINARY),
    ADAMW(false, BINARY, UNARY),
    RANDOM_UNIFORM(false),
    RANDOM_NORMAL(false);

    private final boolean primitive;
    private final Set<BackendOp> uses;

    BackendOp(boolean primitive, BackendOp... uses) {
        this.primitive = primitive;
        this.uses = Set.of(uses); // not an EnumSet: the enum is not initialised yet while its constants are built
    }

    /** True for the ops every backend implements (abstract in {@link Backend}). */
    public boolean primitive() {
        return primitive;
    }

    /** The primitives the default composite calls (empty for a primitive, or for a composite that only moves memory). */
    public Set<BackendOp> uses() {
        return uses;
    }
}
