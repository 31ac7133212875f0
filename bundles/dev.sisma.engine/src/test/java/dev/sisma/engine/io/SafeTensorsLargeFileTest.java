package dev.sisma.engine.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A sparse file whose data lies past 2^31 bytes: no int offsets anywhere on the read path. */
class SafeTensorsLargeFileTest {
    @TempDir
    Path dir;

    @Test
    void readsTensorsBeyondTwoGigabytes() throws IOException {
        Path p = dir.resolve("big.safetensors");
        long bigCount = (1L << 29) + 4; // 2^31 + 16 bytes of F32
        long bigBytes = bigCount * 4;
        String header = "{\"__metadata__\":{\"k\":\"v\"},\"big\":{\"dtype\":\"F32\",\"shape\":[" + bigCount
                + "],\"data_offsets\":[0," + bigBytes + "]},\"tail\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":["
                + bigBytes + "," + (bigBytes + 8) + "]}}";
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        long data = 8 + h.length;
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE,
                StandardOpenOption.SPARSE)) {
            ByteBuffer head = ByteBuffer.allocate(8 + h.length).order(ByteOrder.LITTLE_ENDIAN).putLong(h.length).put(h);
            ch.write(head.flip(), 0);
            ByteBuffer lastFour = ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN);
            lastFour.putFloat(1.5f).putFloat(-2f).putFloat(3.25f).putFloat(1e20f);
            ch.write(lastFour.flip(), data + bigBytes - 16);
            ByteBuffer tail = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            tail.putShort((short) 0x3F80).putShort((short) 0xC000).putShort((short) 0x4040).putShort((short) 0);
            ch.write(tail.flip(), data + bigBytes);
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(p)) {
            assertEquals(bigCount, f.info("big").elementCount());
            assertEquals(bigBytes, f.segment("big").byteSize());
            float[] dst = new float[6];
            f.readFloats("big", bigCount - 4, dst, 1, 4);
            assertArrayEquals(new float[] {0, 1.5f, -2f, 3.25f, 1e20f, 0}, dst);
            assertArrayEquals(new float[] {1, -2, 3, 0}, f.readFloats("tail"));
            assertEquals(bigBytes, f.info("tail").begin());
            try (Arena a = Arena.ofConfined()) {
                MemorySegment seg = a.allocate(16);
                f.readFloats("tail", seg);
                assertEquals(3f, seg.getAtIndex(java.lang.foreign.ValueLayout.JAVA_FLOAT, 2));
            }
        }
    }
}
