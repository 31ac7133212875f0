package dev.sisma.engine.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A corpus of malformed files, each with the one precise message it must produce. */
class SafeTensorsMalformedTest {
    @TempDir
    Path dir;
    private int counter;

    private Path raw(byte[] bytes) throws IOException {
        Path p = dir.resolve("bad" + (counter++) + ".safetensors");
        Files.write(p, bytes);
        return p;
    }

    /** 8-byte length + header + {@code dataBytes} zero bytes. */
    private Path file(String header, int dataBytes) throws IOException {
        byte[] h = header.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        return raw(b.array());
    }

    private Path withLength(long headerLength, int totalBytes) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(totalBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(headerLength);
        return raw(b.array());
    }

    private static void expect(Path p, String tensor, String problem) {
        SafeTensorsException e = assertThrows(SafeTensorsException.class, () -> SafeTensorsFile.open(p).close());
        String where = tensor == null ? p + ": " : p + ": " + tensor + ": ";
        assertEquals(where + problem, e.getMessage());
        assertEquals(p, e.file());
        assertEquals(problem, e.problem());
        if (tensor == null) {
            assertNull(e.tensor());
        } else {
            assertEquals(tensor, e.tensor());
        }
    }

    private static String entry(String dtype, String shape, String offsets) {
        return "{\"dtype\":\"" + dtype + "\",\"shape\":" + shape + ",\"data_offsets\":" + offsets + "}";
    }

    @Test
    void fileSizeAndHeaderLength() throws IOException {
        expect(raw(new byte[0]), null, "file is 0 bytes, shorter than the 8-byte header length");
        expect(raw(new byte[7]), null, "file is 7 bytes, shorter than the 8-byte header length");
        expect(withLength(1000, 20), null, "header length 1000 exceeds the file (20 bytes, so at most 12)");
        expect(withLength(13, 20), null, "header length 13 exceeds the file (20 bytes, so at most 12)");
        expect(withLength(1L << 40, 20), null, "header length 1099511627776 is absurd (more than 100000000 bytes)");
        expect(withLength(-1, 20), null, "header length 18446744073709551615 is absurd (more than 100000000 bytes)");
        expect(withLength(100_000_001, 20), null, "header length 100000001 is absurd (more than 100000000 bytes)");
    }

    @Test
    void headerJson() throws IOException {
        expect(file("", 0), null, "header is not valid JSON: unexpected end of input at character 0");
        expect(file("{\"a\":", 0), null, "header is not valid JSON: unexpected end of input at character 5");
        expect(file("{} x", 0), null,
                "header is not valid JSON: unexpected 'x' after the end of the JSON value at character 3");
        expect(file("{'a':1}", 0), null, "header is not valid JSON: expected a string key but found ''' at character 1");
        expect(file("{\"a\":1,}", 0), null, "header is not valid JSON: expected a string key but found '}' at character 7");
        expect(file("{\"a\":01}", 0), null, "header is not valid JSON: bad number (leading zero) at character 6");
        expect(file("{\"a\":\"\\x\"}", 0), null, "header is not valid JSON: bad escape \\x at character 6");
        expect(file("{\"a\":\"\n\"}", 0), null, "header is not valid JSON: control character U+000A in a string at character 6");
        expect(file("{\"a\":tru}", 0), null, "header is not valid JSON: unexpected 't' at character 5");
        expect(file("{\"a\":{},\"a\":{}}", 0), null, "header is not valid JSON: duplicate key \"a\" at character 8");
        expect(file("[1,2]", 0), null, "header is not a JSON object");
        expect(file("\"x\"", 0), null, "header is not a JSON object");
        expect(file("[".repeat(100) + "]".repeat(100), 0), null,
                "header is not valid JSON: nesting deeper than 64 at character 65");
        ByteBuffer b = ByteBuffer.allocate(8 + 4).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(4).put(new byte[] {'{', (byte) 0xC3, (byte) 0x28, '}'});
        expect(raw(b.array()), null, "header is not valid UTF-8");
    }

    @Test
    void metadata() throws IOException {
        expect(file("{\"__metadata__\":[]}", 0), null, "__metadata__ is not a JSON object");
        expect(file("{\"__metadata__\":{\"k\":1}}", 0), null, "__metadata__: value of \"k\" is not a string");
    }

    @Test
    void entries() throws IOException {
        expect(file("{\"a\":5}", 0), "a", "header entry is not a JSON object");
        expect(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1]}}", 4), "a", "header entry has no \"data_offsets\"");
        expect(file("{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4],\"x\":1}}", 4), "a",
                "unexpected key \"x\" in the header entry");
        expect(file("{\"a\":" + entry("F33", "[1]", "[0,4]") + "}", 4), "a",
                "unknown dtype \"F33\" (supported: F32, F16, BF16)");
        expect(file("{\"a\":" + entry("I64", "[1]", "[0,8]") + "}", 8), "a",
                "unsupported dtype \"I64\" (supported: F32, F16, BF16)");
        expect(file("{\"a\":{\"dtype\":4,\"shape\":[1],\"data_offsets\":[0,4]}}", 4), "a", "dtype is not a string: 4");
    }

    @Test
    void shapes() throws IOException {
        expect(file("{\"a\":" + entry("F32", "[-1]", "[0,4]") + "}", 4), "a",
                "shape is not a list of non-negative integers: [-1]");
        expect(file("{\"a\":" + entry("F32", "[1.0]", "[0,4]") + "}", 4), "a",
                "shape is not a list of non-negative integers: [1.0]");
        expect(file("{\"a\":" + entry("F32", "[1e0]", "[0,4]") + "}", 4), "a",
                "shape is not a list of non-negative integers: [1e0]");
        expect(file("{\"a\":" + entry("F32", "\"1\"", "[0,4]") + "}", 4), "a",
                "shape is not a list of non-negative integers: 1");
        expect(file("{\"a\":" + entry("F32", "[[1]]", "[0,4]") + "}", 4), "a",
                "shape is not a list of non-negative integers: [[1]]");
        expect(file("{\"a\":" + entry("F32", "[4611686018427387904,4]", "[0,4]") + "}", 4), "a",
                "shape [4611686018427387904, 4] is too large");
        expect(file("{\"a\":" + entry("F32", "[2,3]", "[0,20]") + "}", 20), "a",
                "shape [2, 3] x F32 (4 bytes) needs 24 bytes but data_offsets [0, 20] hold 20");
        expect(file("{\"a\":" + entry("BF16", "[]", "[0,4]") + "}", 4), "a",
                "shape [] x BF16 (2 bytes) needs 2 bytes but data_offsets [0, 4] hold 4");
    }

    @Test
    void offsets() throws IOException {
        expect(file("{\"a\":" + entry("F32", "[1]", "[0]") + "}", 4), "a",
                "data_offsets is not a list of two non-negative integers: [0]");
        expect(file("{\"a\":" + entry("F32", "[1]", "[0,99999999999999999999]") + "}", 4), "a",
                "data_offsets is not a list of two non-negative integers: [0, 99999999999999999999]");
        expect(file("{\"a\":" + entry("F32", "[1]", "[-4,0]") + "}", 4), "a",
                "data_offsets is not a list of two non-negative integers: [-4, 0]");
        expect(file("{\"a\":" + entry("F32", "[1]", "[8,4]") + "}", 8), "a",
                "data_offsets [8, 4] end before they begin");
        expect(file("{\"a\":" + entry("F32", "[6]", "[0,24]") + "}", 20), "a",
                "data_offsets [0, 24] lie outside the data area (20 bytes)");
        expect(file("{\"a\":" + entry("F32", "[4]", "[0,16]") + ",\"b\":" + entry("F32", "[4]", "[8,24]") + "}", 24),
                "b", "data_offsets [8, 24] overlap tensor \"a\" [0, 16]");
        expect(file("{\"b\":" + entry("F32", "[4]", "[8,24]") + ",\"a\":" + entry("F32", "[4]", "[0,16]") + "}", 24),
                "b", "data_offsets [8, 24] overlap tensor \"a\" [0, 16]");
        expect(file("{\"a\":" + entry("F32", "[4]", "[0,16]") + ",\"b\":" + entry("F32", "[4]", "[0,16]") + "}", 16),
                "b", "data_offsets [0, 16] overlap tensor \"a\" [0, 16]");
        expect(file("{\"a\":" + entry("F32", "[4]", "[0,16]") + ",\"b\":" + entry("F32", "[4]", "[20,36]") + "}", 36),
                "b", "gap of 4 unused bytes before data_offsets [20, 36]");
        expect(file("{\"a\":" + entry("F32", "[4]", "[4,20]") + "}", 20),
                "a", "gap of 4 unused bytes before data_offsets [4, 20]");
        expect(file("{\"a\":" + entry("F32", "[4]", "[0,16]") + "}", 20),
                null, "4 unused bytes after the last tensor (data area 20 bytes)");
    }

    @Test
    void validFilesOfTheSameShapeOpen() throws IOException {
        // The control: the corpus above fails for the reason it states, not for the helper.
        try (SafeTensorsFile f = SafeTensorsFile.open(file("{\"a\":" + entry("F32", "[4]", "[0,16]") + ",\"b\":"
                + entry("F32", "[0]", "[16,16]") + "} \n\t", 16))) {
            assertEquals(2, f.tensors().size());
        }
        try (SafeTensorsFile f = SafeTensorsFile.open(file("{}", 0))) {
            assertEquals(0, f.tensors().size());
        }
    }
}
