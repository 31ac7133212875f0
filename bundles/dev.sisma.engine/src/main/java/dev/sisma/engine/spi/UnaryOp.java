package dev.sisma.engine.spi;

/**
 * Elementwise unary primitives: {@code y = f(x)}. The derivative used by
 * {@link Backend#unaryBackward} is given for each.
 */
public enum UnaryOp {
    /** -x; f' = -1. */
    NEG,
    /** e^x; f' = e^x. */
    EXP,
    /** ln x; f' = 1/x. */
    LOG,
    /** sqrt x; f' = 1/(2 sqrt x). */
    SQRT,
    /** 1/sqrt x; f' = -1/2 x^-3/2. */
    RSQRT,
    /** |x|; f' = sign(x) (0 at 0). */
    ABS,
    /** sin x; f' = cos x. */
    SIN,
    /** cos x; f' = -sin x. */
    COS,
    /** tanh x; f' = 1 - tanh^2 x. */
    TANH,
    /** 1/(1+e^-x); f' = s(1-s). */
    SIGMOID,
    /** x * sigmoid(x); f' = s (1 + x (1 - s)). */
    SILU,
    /** ln(1+e^x), computed as x for x > 20 (PyTorch's threshold); f' = sigmoid(x). */
    SOFTPLUS,
    /** 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))), PyTorch's gelu(approximate="tanh"). */
    GELU_TANH,
    /** max(x, 0); f' = 1 if x > 0 else 0. */
    RELU,
    /** x^2; f' = 2x. */
    SQUARE,
    /** 1/x; f' = -1/x^2. */
    RECIPROCAL
}
