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

    /**
     * {@code f} as a value of this 16-bit format, rounded to nearest even (BF16 as PyTorch rounds;
     * a NaN stays a quiet NaN). F32 has no 16-bit form: IllegalStateException.
     */
    public short toHalf(float f) {
        return switch (this) {
            case F16 -> Float.floatToFloat16(f);
            case BF16 -> {
                int bits = Float.floatToRawIntBits(f);
                yield Float.isNaN(f) ? (short) ((bits >>> 16) | 0x40) : (short) ((bits + 0x7FFF + ((bits >>> 16) & 1)) >>> 16);
            }
            case F32 -> throw new IllegalStateException("F32 is not a 16-bit format");
        };
    }

    /** A value of this 16-bit format as float32, exactly (BF16: the top half of a binary32). */
    public float fromHalf(short h) {
        return switch (this) {
            case F16 -> Float.float16ToFloat(h);
            case BF16 -> Float.intBitsToFloat(h << 16);
            case F32 -> throw new IllegalStateException("F32 is not a 16-bit format");
        };
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
