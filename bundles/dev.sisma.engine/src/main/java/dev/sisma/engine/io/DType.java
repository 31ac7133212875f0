package dev.sisma.engine.io;

import java.util.Optional;

/** The element types this package reads (all three) and writes (all three; F32 is the default). */
public enum DType {
    /** IEEE binary32. */
    F32(4),
    /** IEEE binary16. */
    F16(2),
    /** bfloat16: the upper 16 bits of a binary32. */
    BF16(2);

    private final int byteSize;

    DType(int byteSize) {
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The dtype named exactly as in a safetensors header ("F32", "F16", "BF16"), if supported. */
    public static Optional<DType> fromHeaderName(String name) {
        for (DType d : values()) {
            if (d.name().equals(name)) {
                return Optional.of(d);
            }
        }
        return Optional.empty();
    }
}
