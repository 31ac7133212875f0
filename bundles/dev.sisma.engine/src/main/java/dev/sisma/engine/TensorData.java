package dev.sisma.engine;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;

/**
 * Host-side tensor values by shape: little-endian float32 in a {@link MemorySegment} (a slice of a
 * memory-mapped safetensors file, or a heap array). The currency of state dicts
 * ({@link dev.sisma.engine.nn.Module#loadStateDict}), so file formats plug in without the engine knowing them.
 */
public record TensorData(Shape shape, MemorySegment data) {
    public TensorData {
        if (data.byteSize() != shape.size() * 4)
            throw new IllegalArgumentException("tensor data of " + data.byteSize() + " bytes does not hold shape " + shape + " as float32");
    }

    /** Wraps a heap array (no copy). Heap float arrays are in native order; little-endian on every supported platform. */
    public static TensorData of(float[] values, int... shape) {
        return new TensorData(Shape.of(shape), MemorySegment.ofArray(values));
    }

    /** The values as a new array. */
    public float[] toArray() {
        float[] out = new float[Math.toIntExact(shape.size())];
        MemorySegment.copy(data, ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(java.nio.ByteOrder.LITTLE_ENDIAN), 0, out, 0, out.length);
        return out;
    }
}
