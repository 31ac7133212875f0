package dev.sisma.api.generate;

import java.util.Locale;

import dev.sisma.api.cli.UsageException;

/**
 * The format a loaded model keeps its Linear weights in. {@link #F32} is the trained float32;
 * {@link #BF16} and {@link #F16} keep them at half the memory on the CPU backend, which widens
 * them to float32 as its GEMM packs them (BF16: 8 significant bits, F16: 11).
 */
public enum WeightFormat {
    F32, BF16, F16;

    /** The command-line option that names a format, on every command that loads a model for inference. */
    public static final String OPTION = "--weights";

    /** The option's line in a command's usage text, indented like the option lines around it. */
    public static final String USAGE =
            "  --weights F       Linear weights as f32, bf16 or f16 (half the memory on the cpu backend, widened in\n"
          + "                    its GEMM); default: the system property sisma.weights, else f32\n";

    /** The name on the command line and in files: {@code f32}, {@code bf16} or {@code f16}. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The format a name gives (case and surrounding blanks ignored); an unknown one names itself and the choices. */
    public static WeightFormat parse(String name) {
        String n = name == null ? "" : name.strip().toLowerCase(Locale.ROOT);
        for (WeightFormat f : values()) {
            if (f.id().equals(n)) {
                return f;
            }
        }
        throw new IllegalArgumentException("unknown weight format '" + name + "'; choices: " + choices());
    }

    /** The names, comma-separated: {@code f32, bf16, f16}. */
    public static String choices() {
        StringBuilder sb = new StringBuilder();
        for (WeightFormat f : values()) {
            sb.append(sb.isEmpty() ? "" : ", ").append(f.id());
        }
        return sb.toString();
    }

    /**
     * The value of the {@value #OPTION} option, or null when the option was not given (the
     * generator's default then): a bad value is a {@link UsageException} naming it and the choices.
     */
    public static WeightFormat option(String value) {
        if (value == null) {
            return null;
        }
        try {
            return parse(value);
        } catch (IllegalArgumentException e) {
            throw new UsageException(OPTION + ": " + e.getMessage());
        }
    }
}
