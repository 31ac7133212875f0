/* GENERATED from the enums of dev.sisma.engine.spi by dev.sisma.engine.gpu.OpCodes: do not edit.
 * Regenerate: mvn -o -q test -pl engine.gpu -Dsisma.kernels.regenerate=true
 * The kernels switch on these; a code without its case gives NaN. */
#ifndef SK_OPS_H
#define SK_OPS_H
#define SK_UNARY_NEG 0
#define SK_UNARY_EXP 1
#define SK_UNARY_LOG 2
#define SK_UNARY_SQRT 3
#define SK_UNARY_RSQRT 4
#define SK_UNARY_ABS 5
#define SK_UNARY_SIN 6
#define SK_UNARY_COS 7
#define SK_UNARY_TANH 8
#define SK_UNARY_SIGMOID 9
#define SK_UNARY_SILU 10
#define SK_UNARY_SOFTPLUS 11
#define SK_UNARY_GELU_TANH 12
#define SK_UNARY_RELU 13
#define SK_UNARY_SQUARE 14
#define SK_UNARY_RECIPROCAL 15
#define SK_UNARY_COUNT 16
#define SK_BINARY_ADD 0
#define SK_BINARY_SUB 1
#define SK_BINARY_MUL 2
#define SK_BINARY_DIV 3
#define SK_BINARY_MAX 4
#define SK_BINARY_MIN 5
#define SK_BINARY_COUNT 6
#define SK_COMPARE_EQ 6
#define SK_COMPARE_NE 7
#define SK_COMPARE_LT 8
#define SK_COMPARE_LE 9
#define SK_COMPARE_GT 10
#define SK_COMPARE_GE 11
#define SK_REDUCE_SUM 0
#define SK_REDUCE_MEAN 1
#define SK_REDUCE_MAX 2
#define SK_REDUCE_COUNT 3
#endif
