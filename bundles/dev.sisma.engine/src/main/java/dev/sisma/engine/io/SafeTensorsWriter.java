package dev.sisma.engine.io;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Collects tensors and metadata, then writes one safetensors file atomically.
 *
 * <p>Sources are kept by reference, not copied: they must not change until {@link #write}
 * returns. Tensors are laid out in the order they were added; the header is padded with spaces
 * to a multiple of 8 bytes, so the data area starts 8-byte aligned, as the reference writer does.
 *
 * <p>{@link #write} writes a temp file in the target's folder, forces it to disk, renames it over
 * the target with {@link StandardCopyOption#ATOMIC_MOVE} and forces the folder: a crash leaves
 * either the old file or the new one, never half of one.
 */
public final class SafeTensorsWriter {
    private static final int CHUNK_BYTES = 1 << 20;

    private sealed interface Source permits FloatArray, FloatSegment, RawSegment {
    }

    private record FloatArray(float[] values, int offset) implements Source {
    }

    /** float32 values in native byte order. */
    private record FloatSegment(MemorySegment values) implements Source {
    }

    /** Bytes already encoded in the entry's dtype, little-endian (copied as they are). */
    private record RawSegment(MemorySegment bytes) implements Source {
    }

    private record Entry(String name, DType dtype, long[] shape, long count, Source source) {
    }

    private final Map<String, String> metadata = new LinkedHashMap<>();
    private final List<Entry> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();

    /** Adds one {@code __metadata__} entry (replacing an earlier value for the key). */
    public SafeTensorsWriter putMetadata(String key, String value) {
        metadata.put(Objects.requireNonNull(key, "key"), Objects.requireNonNull(value, "value"));
        return this;
    }

    /** Adds all entries of {@code map} to {@code __metadata__}. */
    public SafeTensorsWriter putMetadata(Map<String, String> map) {
        map.forEach(this::putMetadata);
        return this;
    }

    /** Adds a float32 tensor holding all of {@code values}. */
    public SafeTensorsWriter add(String name, long[] shape, float[] values) {
        return add(name, DType.F32, shape, values, 0);
    }

    /** Adds a tensor stored as {@code dtype} (F16/BF16: rounded to nearest even) from {@code values[offset...]}. */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, float[] values, int offset) {
        long count = check(name, dtype, shape);
        if (offset < 0 || count > values.length - (long) offset) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape) + " needs "
                    + count + " values but the array has " + (values.length - (long) offset) + " from offset " + offset);
        }
        return put(new Entry(name, dtype, shape.clone(), count, new FloatArray(values, offset)));
    }

    /** Adds a tensor stored as {@code dtype} from native-order float32 values in {@code values} (any size). */
    public SafeTensorsWriter add(String name, DType dtype, long[] shape, MemorySegment values) {
        long count = check(name, dtype, shape);
        if (values.byteSize() != count * 4) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape) + " needs "
                    + count * 4 + " bytes of float32 but the segment has " + values.byteSize());
        }
        return put(new Entry(name, dtype, shape.clone(), count, new FloatSegment(values)));
    }

    /**
     * Adds a tensor whose bytes are already encoded in {@code dtype}, little-endian: for example a
     * {@link SafeTensorsFile#segment} of another file, copied without conversion.
     */
    public SafeTensorsWriter addRaw(String name, DType dtype, long[] shape, MemorySegment bytes) {
        long count = check(name, dtype, shape);
        if (bytes.byteSize() != count * dtype.byteSize()) {
            throw new IllegalArgumentException("tensor \"" + name + "\": shape " + Arrays.toString(shape) + " x " + dtype
                    + " needs " + count * dtype.byteSize() + " bytes but the segment has " + bytes.byteSize());
        }
        return put(new Entry(name, dtype, shape.clone(), count, new RawSegment(bytes)));
    }

    private SafeTensorsWriter put(Entry e) {
        entries.add(e);
        names.add(e.name());
        return this;
    }

    private long check(String name, DType dtype, long[] shape) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(dtype, "dtype");
        if (name.isEmpty() || name.equals("__metadata__")) {
            throw new IllegalArgumentException("tensor name \"" + name + "\" is reserved or empty");
        }
        if (names.contains(name)) {
            throw new IllegalArgumentException("tensor \"" + name + "\" was already added");
        }
        long count = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("tensor \"" + name + "\": negative dimension in shape "
                        + Arrays.toString(shape));
            }
            count = Math.multiplyExact(count, d);
        }
        Math.multiplyExact(count, 4L);
        return count;
    }

    /** The header JSON (unpadded) for the tensors added so far. */
    String headerJson() {
        StringBuilder sb = new StringBuilder(64 + 96 * entries.size());
        sb.append('{');
        boolean first = true;
        if (!metadata.isEmpty()) {
            sb.append("\"__metadata__\":{");
            boolean f = true;
            for (Map.Entry<String, String> e : metadata.entrySet()) {
                if (!f) {
                    sb.append(',');
                }
                f = false;
                Json.quote(sb, e.getKey());
                sb.append(':');
                Json.quote(sb, e.getValue());
            }
            sb.append('}');
            first = false;
        }
        long offset = 0;
        for (Entry e : entries) {
            if (!first) {
                sb.append(',');
            }
            first = false;
            Json.quote(sb, e.name());
            sb.append(":{\"dtype\":\"").append(e.dtype().name()).append("\",\"shape\":[");
            for (int i = 0; i < e.shape().length; i++) {
                sb.append(i == 0 ? "" : ",").append(e.shape()[i]);
            }
            long end = offset + e.count() * e.dtype().byteSize();
            sb.append("],\"data_offsets\":[").append(offset).append(',').append(end).append("]}");
            offset = end;
        }
        return sb.append('}').toString();
    }

    /**
     * Writes the file atomically to {@code target} (replacing it if present).
     *
     * @throws IOException when writing, syncing or renaming fails; the target is then untouched
     *                     and the temp file removed
     */
    public void write(Path target) throws IOException {
        Path abs = target.toAbsolutePath();
        Path dir = abs.getParent();
        byte[] header = headerJson().getBytes(StandardCharsets.UTF_8);
        int padded = (header.length + 7) & ~7;
        if (padded > SafeTensorsFile.MAX_HEADER_BYTES) {
            throw new SafeTensorsException(abs, null, "header of " + padded + " bytes is larger than readers accept ("
                    + SafeTensorsFile.MAX_HEADER_BYTES + ")");
        }
        Path tmp = createTemp(dir, abs.getFileName().toString());
        boolean done = false;
        try {
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ByteBuffer buf = ByteBuffer.allocateDirect(CHUNK_BYTES).order(ByteOrder.LITTLE_ENDIAN);
                ByteBuffer head = ByteBuffer.allocate(8 + padded).order(ByteOrder.LITTLE_ENDIAN);
                head.putLong(padded).put(header);
                while (head.hasRemaining()) {
                    head.put((byte) ' ');
                }
                writeFully(ch, head.flip());
                for (Entry e : entries) {
                    writeData(ch, e, buf);
                }
                ch.force(true);
            }
            try {
                Files.move(tmp, abs, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                throw new IOException(abs + ": the file system cannot rename atomically", e);
            }
            done = true;
            forceDirectory(dir);
        } finally {
            if (!done) {
                Files.deleteIfExists(tmp);
            }
        }
    }

    private static Path createTemp(Path dir, String name) throws IOException {
        // Not Files.createTempFile: that creates mode 0600, and the renamed file would keep it.
        for (int attempt = 0; ; attempt++) {
            Path tmp = dir.resolve("." + name + "." + Long.toHexString(ThreadLocalRandom.current().nextLong()) + ".tmp");
            try {
                Files.newByteChannel(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE).close();
                return tmp;
            } catch (FileAlreadyExistsException e) {
                if (attempt > 100) {
                    throw e;
                }
            }
        }
    }

    private static void forceDirectory(Path dir) {
        // Makes the rename itself durable on Linux; not every platform can open a folder, and the
        // data is already safe, so a failure here is not an error.
        try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
            d.force(true);
        } catch (IOException | UnsupportedOperationException ignored) {
            // best effort
        }
    }

    private static void writeData(FileChannel ch, Entry e, ByteBuffer buf) throws IOException {
        MemorySegment bufSeg = MemorySegment.ofBuffer(buf.clear()); // ofBuffer spans position..limit
        int elemBytes = e.dtype().byteSize();
        int perChunk = CHUNK_BYTES / elemBytes;
        for (long done = 0; done < e.count(); ) {
            int n = (int) Math.min(perChunk, e.count() - done);
            encode(e, done, n, buf, bufSeg);
            buf.position(0).limit(n * elemBytes);
            writeFully(ch, buf);
            done += n;
        }
    }

    /** Encodes elements [first, first + n) of the entry into the start of {@code buf}. */
    private static void encode(Entry e, long first, int n, ByteBuffer buf, MemorySegment bufSeg) {
        switch (e.source()) {
            case RawSegment r -> MemorySegment.copy(r.bytes(), first * e.dtype().byteSize(), bufSeg, 0,
                    (long) n * e.dtype().byteSize());
            case FloatArray a -> {
                int base = a.offset() + (int) first;
                switch (e.dtype()) {
                    case F32 -> MemorySegment.copy(a.values(), base, bufSeg, SafeTensorsFile.F32_LE, 0, n);
                    case F16 -> {
                        for (int i = 0; i < n; i++) {
                            buf.putShort(2 * i, Float.floatToFloat16(a.values()[base + i]));
                        }
                    }
                    case BF16 -> {
                        for (int i = 0; i < n; i++) {
                            buf.putShort(2 * i, toBf16(a.values()[base + i]));
                        }
                    }
                }
            }
            case FloatSegment s -> {
                long base = first * 4;
                switch (e.dtype()) {
                    case F32 -> MemorySegment.copy(s.values(), ValueLayout.JAVA_FLOAT_UNALIGNED, base, bufSeg,
                            SafeTensorsFile.F32_LE, 0, n);
                    case F16 -> {
                        for (int i = 0; i < n; i++) {
                            buf.putShort(2 * i, Float.floatToFloat16(
                                    s.values().get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4L * i)));
                        }
                    }
                    case BF16 -> {
                        for (int i = 0; i < n; i++) {
                            buf.putShort(2 * i, toBf16(s.values().get(ValueLayout.JAVA_FLOAT_UNALIGNED, base + 4L * i)));
                        }
                    }
                }
            }
        }
    }

    /** float32 to bfloat16, rounding to nearest even as PyTorch does; NaN stays a (quiet) NaN. */
    static short toBf16(float f) {
        return DType.BF16.toHalf(f);
    }

    private static void writeFully(FileChannel ch, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            ch.write(b);
        }
    }
}
