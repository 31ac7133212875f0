package dev.sisma.engine.gpu;

import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * The op codes the kernels switch on, derived from the SPI enums and nowhere else: the host passes
 * {@code code(op)}, and the kernels' {@code SK_UNARY_*}, {@code SK_BINARY_*}, {@code SK_COMPARE_*},
 * {@code SK_REDUCE_*} come from {@code engine.kernels/sk_ops.h}, which is {@link #header()}'s text
 * (OpCodesHeaderTest fails while the checked-in file differs, and says how to regenerate it).
 * Comparisons share the binary kernel, numbered after the binary ops.
 */
public final class OpCodes {
    /** The generated header's file name in engine.kernels. */
    public static final String HEADER = "sk_ops.h";

    private OpCodes() {}

    public static int code(UnaryOp op) {
        return op.ordinal();
    }

    public static int code(BinaryOp op) {
        return op.ordinal();
    }

    public static int code(CompareOp op) {
        return BinaryOp.values().length + op.ordinal();
    }

    public static int code(ReduceOp op) {
        return op.ordinal();
    }

    /** The text of sk_ops.h. */
    public static String header() {
        StringBuilder sb = new StringBuilder(2048);
        sb.append("/* GENERATED from the enums of dev.sisma.engine.spi by dev.sisma.engine.gpu.OpCodes: do not edit.\n")
          .append(" * Regenerate: mvn -o -q test -pl engine.gpu -Dsisma.kernels.regenerate=true\n")
          .append(" * The kernels switch on these; a code without its case gives NaN. */\n")
          .append("#ifndef SK_OPS_H\n#define SK_OPS_H\n");
        for (UnaryOp op : UnaryOp.values()) define(sb, "SK_UNARY_" + op.name(), code(op));
        define(sb, "SK_UNARY_COUNT", UnaryOp.values().length);
        for (BinaryOp op : BinaryOp.values()) define(sb, "SK_BINARY_" + op.name(), code(op));
        define(sb, "SK_BINARY_COUNT", BinaryOp.values().length);
        for (CompareOp op : CompareOp.values()) define(sb, "SK_COMPARE_" + op.name(), code(op));
        for (ReduceOp op : ReduceOp.values()) define(sb, "SK_REDUCE_" + op.name(), code(op));
        define(sb, "SK_REDUCE_COUNT", ReduceOp.values().length);
        return sb.append("#endif\n").toString();
    }

    private static void define(StringBuilder sb, String name, int value) {
        sb.append("#define ").append(name).append(' ').append(value).append('\n');
    }
}
