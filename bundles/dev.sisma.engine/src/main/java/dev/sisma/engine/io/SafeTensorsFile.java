package dev.sisma.engine.io;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * A safetensors file, memory-mapped read-only and validated as a whole when opened.
 *
 * <p>Layout: an unsigned little-endian 64-bit header length {@code n}, {@code n} bytes of UTF-8
 * JSON (an object: tensor name to {@code {"dtype", "shape", "data_offsets"}}, plus an optional
 * {@code "__metadata__"} object of strings), then the data area; offsets are relative to the data
 * area's start. {@link #open} checks everything before anything is used: the file and header
 * sizes, the JSON, each entry's keys, dtype, shape and offsets, that shape x dtype size equals the
 * byte range, and that the ranges tile the data area exactly (no overlap, no gap, no trailing
 * bytes, as the reference implementation requires).
 *
 * <p>The mapping is a {@link MemorySegment} of a shared {@link Arena}: files over 2 GB work, the
 * views of {@link #segment} are zero-copy and may be read from any thread, and all of them become
 * inaccessible (never dangling) after {@link #close()}.
 */
public final class SafeTensorsFile implements AutoCloseable {
    /** Headers longer than this are refused as absurd (a corrupt length, or a hostile file). */
    public static final long MAX_HEADER_BYTES = 100_000_000L;

    static final ValueLayout.OfFloat F32_LE =
            ValueLayout.JAVA_FLOAT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfShort I16_LE =
            ValueLayout.JAVA_SHORT_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);
    static final ValueLayout.OfLong I64_LE =
            ValueLayout.JAVA_LONG_UNALIGNED.withOrder(ByteOrder.LITTLE_ENDIAN);

    /** Every dtype name the safetensors format defines, to tell "unsupported" from "unknown". */
    private static final Set<String> FORMAT_DTYPES = Set.of("BOOL", "U8", "I8", "F8_E5M2", "F8_E4M3",
            "I16", "U16", "F16", "BF16", "I32", "U32", "F32", "F64", "I64", "U64");

    private final Path path;
    private final Arena arena;
    private final MemorySegment data;
    private final long dataOffset;
    private final Map<String, TensorInfo> tensors;
    private final Map<String, String> metadata;

    private SafeTensorsFile(Path path, Arena arena, MemorySegment data, long dataOffset,
                            Map<String, TensorInfo> tensors, Map<String, String> metadata) {
        this.path = path;
        this.arena = arena;
        this.data = data;
        this.dataOffset = dataOffset;
        this.tensors = tensors;
        this.metadata = metadata;
    }

    /**
     * Maps and validates {@code path}.
     *
     * @throws SafeTensorsException when the file is not a valid safetensors file
     * @throws IOException when it cannot be opened or mapped
     */
    public static SafeTensorsFile open(Path path) throws IOException {
        Arena arena = Arena.ofShared();
        try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < 8) {
                throw new SafeTensorsException(path, null,
                        "file is " + size + " bytes, shorter than the 8-byte header length");
            }
            ByteBuffer lenBuf = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            while (lenBuf.hasRemaining()) {
                if (ch.read(lenBuf, lenBuf.position()) < 0) {
                    throw new SafeTensorsException(path, null, "file ended while reading the header length");
                }
            }
            long n = lenBuf.getLong(0);
            if (n < 0 || n > MAX_HEADER_BYTES) {
                throw new SafeTensorsException(path, null, "header length " + Long.toUnsignedString(n)
                        + " is absurd (more than " + MAX_HEADER_BYTES + " bytes)");
            }
            if (n > size - 8) {
                throw new SafeTensorsException(path, null, "header length " + n
                        + " exceeds the file (" + size + " bytes, so at most " + (size - 8) + ")");
            }
            MemorySegment all = ch.map(FileChannel.MapMode.READ_ONLY, 0, size, arena);
            byte[] headerBytes = all.asSlice(8, n).toArray(ValueLayout.JAVA_BYTE);
            long dataOffset = 8 + n;
            MemorySegment data = all.asSlice(dataOffset);
            Map<String, String> metadata = new LinkedHashMap<>();
            Map<String, TensorInfo> tensors = parseHeader(path, headerBytes, data.byteSize(), metadata);
            return new SafeTensorsFile(path, arena, data, dataOffset, tensors,
                    Collections.unmodifiableMap(metadata));
        } catch (Throwable t) {
            arena.close();
            throw t;
        }
    }

    private static Map<String, TensorInfo> parseHeader(Path path, byte[] bytes, long dataSize,
                                                       Map<String, String> metadataOut) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            throw new SafeTensorsException(path, null, "header is not valid UTF-8", e);
        }
        Object root;
        try {
            root = Json.parse(text);
        } catch (Json.ParseException e) {
            throw new SafeTensorsException(path, null, "header is not valid JSON: " + e.getMessage(), e);
        }
        if (!(root instanceof Map<?, ?> top)) {
            throw new SafeTensorsException(path, null, "header is not a JSON object");
        }
        Map<String, TensorInfo> tensors = new LinkedHashMap<>();
        for (Map.Entry<?, ?> e : top.entrySet()) {
            String name = (String) e.getKey();
            if (name.equals("__metadata__")) {
                readMetadata(path, e.getValue(), metadataOut);
            } else {
                tensors.put(name, readEntry(path, name, e.getValue(), dataSize));
            }
        }
        checkTiling(path, tensors.values(), dataSize);
        return Collections.unmodifiableMap(tensors);
    }

    private static void readMetadata(Path path, Object v, Map<String, String> out) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafeTensorsException(path, null, "__metadata__ is not a JSON object");
        }
        for (Map.Entry<?, ?> e : m.entrySet()) {
            if (!(e.getValue() instanceof String s)) {
                throw new SafeTensorsException(path, null,
                        "__metadata__: value of \"" + e.getKey() + "\" is not a string");
            }
            out.put((String) e.getKey(), s);
        }
    }

    private static TensorInfo readEntry(Path path, String name, Object v, long dataSize) {
        if (!(v instanceof Map<?, ?> m)) {
            throw new SafeTensorsException(path, name, "header entry is not a JSON object");
        }
        for (Object k : m.keySet()) {
            if (!k.equals("dtype") && !k.equals("shape") && !k.equals("data_offsets")) {
                throw new SafeTensorsException(path, name, "unexpected key \"" + k + "\" in the header entry");
            }
        }
        for (String k : List.of("dtype", "shape", "data_offsets")) {
            if (!m.containsKey(k)) {
                throw new SafeTensorsException(path, name, "header entry has no \"" + k + "\"");
            }
        }
        if (!(m.get("dtype") instanceof String dtypeName)) {
            throw new SafeTensorsException(path, name, "dtype is not a string: " + m.get("dtype"));
        }
        DType dtype = DType.fromHeaderName(dtypeName).orElseThrow(() -> new SafeTensorsException(path, name,
                (FORMAT_DTYPES.contains(dtypeName) ? "unsupported dtype \"" : "unknown dtype \"") + dtypeName
                        + "\" (supported: F32, F16, BF16)"));
        long[] shape = longList(m.get("shape"), -1);
        if (shape == null) {
            throw new SafeTensorsException(path, name,
                    "shape is not a list of non-negative integers: " + m.get("shape"));
        }
        long[] offsets = longList(m.get("data_offsets"), 2);
        if (offsets == null) {
            throw new SafeTensorsException(path, name,
                    "data_offsets is not a list of two non-negative integers: " + m.get("data_offsets"));
        }
        long begin = offsets[0];
        long end = offsets[1];
        if (end < begin) {
            throw new SafeTensorsException(path, name,
                    "data_offsets [" + begin + ", " + end + "] end before they begin");
        }
        if (end > dataSize) {
            throw new SafeTensorsException(path, name, "data_offsets [" + begin + ", " + end
                    + "] lie outside the data area (" + dataSize + " bytes)");
        }
        long bytes;
        try {
            long count = 1;
            for (long d : shape) {
                count = Math.multiplyExact(count, d);
            }
            bytes = Math.multiplyExact(count, (long) dtype.byteSize());
        } catch (ArithmeticException e) {
            throw new SafeTensorsException(path, name, "shape " + Arrays.toString(shape) + " is too large");
        }
        if (bytes != end - begin) {
            throw new SafeTensorsException(path, name, "shape " + Arrays.toString(shape) + " x " + dtype + " ("
                    + dtype.byteSize() + " bytes) needs " + bytes + " bytes but data_offsets [" + begin + ", "
                    + end + "] hold " + (end - begin));
        }
        return new TensorInfo(name, dtype, shape, begin, end);
    }

    /** The list as longs, or null when it is not a list of non-negative integers (of {@code size}, if >= 0). */
    private static long[] longList(Object v, int size) {
        if (!(v instanceof List<?> list) || (size >= 0 && list.size() != size)) {
            return null;
        }
        long[] out = new long[list.size()];
        for (int i = 0; i < out.length; i++) {
            if (!(list.get(i) instanceof Json.Num num) || !num.isInteger() || num.text().startsWith("-")) {
                return null;
            }
            try {
                out[i] = Long.parseLong(num.text());
            } catch (NumberFormatException e) {
                return null; // beyond 2^63 - 1
            }
        }
        return out;
    }

    /** The ranges must cover [0, dataSize) exactly once, in some order, as the reference implementation checks. */
    private static void checkTiling(Path path, java.util.Collection<TensorInfo> infos, long dataSize) {
        List<TensorInfo> sorted = new ArrayList<>(infos);
        sorted.sort(Comparator.comparingLong(TensorInfo::begin).thenComparingLong(TensorInfo::end));
        long expected = 0;
        TensorInfo previous = null;
        for (TensorInfo t : sorted) {
            if (t.begin() < expected) {
                throw new SafeTensorsException(path, t.name(), "data_offsets [" + t.begin() + ", " + t.end()
                        + "] overlap tensor \"" + previous.name() + "\" [" + previous.begin() + ", "
                        + previous.end() + "]");
            }
            if (t.begin() > expected) {
                throw new SafeTensorsException(path, t.name(), "gap of " + (t.begin() - expected)
                        + " unused bytes before data_offsets [" + t.begin() + ", " + t.end() + "]");
            }
            expected = t.end();
            previous = t;
        }
        if (expected != dataSize) {
            throw new SafeTensorsException(path, null, (dataSize - expected)
                    + " unused bytes after the last tensor (data area " + dataSize + " bytes)");
        }
    }

    /** The file this was opened from. */
    public Path path() {
        return path;
    }

    /** The {@code __metadata__} map (empty when the file has none), in file order. */
    public Map<String, String> metadata() {
        return metadata;
    }

    /** All tensors, in header order. */
    public List<TensorInfo> tensors() {
        return List.copyOf(tensors.values());
    }

    /** The tensor names, in header order. */
    public Set<String> names() {
        return tensors.keySet();
    }

    /** True when the file holds a tensor of that name. */
    public boolean contains(String name) {
        return tensors.containsKey(name);
    }

    /** The tensor's header entry, if present. */
    public Optional<TensorInfo> find(String name) {
        return Optional.ofNullable(tensors.get(name));
    }

    /** The tensor's header entry; a {@link SafeTensorsException} when absent. */
    public TensorInfo info(String name) {
        TensorInfo t = tensors.get(name);
        if (t == null) {
            throw new SafeTensorsException(path, name, "no such tensor in the file");
        }
        return t;
    }

    /** Absolute file offset of the data area (8 + header length). */
    public long dataOffset() {
        return dataOffset;
    }

    /**
     * A zero-copy, read-only view of the tensor's bytes (little-endian, in its file dtype, possibly
     * unaligned: read it with unaligned little-endian layouts). Valid until {@link #close()}.
     */
    public MemorySegment segment(String name) {
        TensorInfo t = info(name);
        return data.asSlice(t.begin(), t.byteSize());
    }

    /** All of the tensor's elements as float32, in a new array (a tensor over 2^31 - 1 elements cannot). */
    public float[] readFloats(String name) {
        TensorInfo t = info(name);
        long count = t.elementCount();
        if (count > Integer.MAX_VALUE - 8) {
            throw new SafeTensorsException(path, name, count + " elements do not fit a Java array; read it in ranges");
        }
        float[] out = new float[(int) count];
        readFloats(name, 0, out, 0, (int) count);
        return out;
    }

    /** All of the tensor's elements as float32 into {@code dst[dstOffset...]}. */
    public void readFloats(String name, float[] dst, int dstOffset) {
        TensorInfo t = info(name);
        long count = t.elementCount();
        if (count > dst.length - (long) dstOffset) {
            throw new SafeTensorsException(path, name, "has " + count + " elements but the destination holds "
                    + Math.max(0, dst.length - (long) dstOffset) + " from offset " + dstOffset);
        }
        readFloats(name, 0, dst, dstOffset, (int) count);
    }

    /**
     * Elements {@code [first, first + count)} (flat, row-major) of the tensor as float32 into
     * {@code dst[dstOffset, dstOffset + count)}: ranged reads let callers stream tensors larger
     * than an array.
     */
    public void readFloats(String name, long first, float[] dst, int dstOffset, int count) {
        TensorInfo t = info(name);
        checkRange(t, first, count);
        java.util.Objects.checkFromIndexSize(dstOffset, count, dst.length);
        long base = t.begin() + first * t.dtype().byteSize();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, dst, dstOffset, count);
            case F16 -> {
                // Tight loop; Float.float16ToFloat is a JIT intrinsic (vcvtph2ps where available).
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.float16ToFloat(data.get(I16_LE, base + 2L * i));
                }
            }
            case BF16 -> {
                // bfloat16 is the top half of a binary32: a shift, exact, no rounding.
                for (int i = 0; i < count; i++) {
                    dst[dstOffset + i] = Float.intBitsToFloat(data.get(I16_LE, base + 2L * i) << 16);
                }
            }
        }
    }

    /**
     * All of the tensor's elements as float32 into {@code dst}, a segment of native-order floats
     * (on or off heap) of at least {@code elementCount * 4} bytes. Works for any size.
     */
    public void readFloats(String name, MemorySegment dst) {
        TensorInfo t = info(name);
        long count = t.elementCount();
        if (dst.byteSize() < count * 4) {
            throw new SafeTensorsException(path, name, "needs " + count * 4 + " bytes of float32 but the destination has "
                    + dst.byteSize());
        }
        long base = t.begin();
        switch (t.dtype()) {
            case F32 -> MemorySegment.copy(data, F32_LE, base, dst, ValueLayout.JAVA_FLOAT_UNALIGNED, 0, count);
            case F16 -> {
                for (long i = 0; i < count; i++) {
                    dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i, Float.float16ToFloat(data.get(I16_LE, base + 2 * i)));
                }
            }
            case BF16 -> {
                for (long i = 0; i < count; i++) {
                    dst.set(ValueLayout.JAVA_FLOAT_UNALIGNED, 4 * i,
                            Float.intBitsToFloat(data.get(I16_LE, base + 2 * i) << 16));
                }
            }
        }
    }

    private void checkRange(TensorInfo t, long first, int count) {
        long n = t.elementCount();
        if (first < 0 || count < 0 || first > n - count) {
            throw new SafeTensorsException(path, t.name(), "elements [" + first + ", " + (first + count)
                    + ") are outside the tensor's " + n);
        }
    }

    /** Unmaps the file; every view from {@link #segment} becomes inaccessible. */
    @Override
    public void close() {
        arena.close();
    }

    @Override
    public String toString() {
        return "SafeTensorsFile[" + path + ", " + tensors.size() + " tensors]";
    }
}
