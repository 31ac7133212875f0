package dev.sisma.cluster.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.UncheckedIOException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;

class CodecTest {
    @Test
    void aResultKeepsItsWorkerSecondsSeedsAndImages() {
        BufferedImage img = new BufferedImage(3, 2, BufferedImage.TYPE_INT_RGB);
        img.setRGB(2, 1, 0x123456);
        byte[] png = Codec.png(img);
        byte[] blob = Codec.done("10.0.0.1:5701", 1.25, List.of(7L, 8L), List.of(png, new byte[] {1, 2, 3}));
        Codec.Result r = Codec.result(blob);
        assertFalse(r.failed());
        assertEquals("10.0.0.1:5701", r.worker());
        assertEquals(1.25, r.seconds());
        assertEquals(List.of(7L, 8L), r.seeds());
        assertArrayEquals(png, r.pngs().get(0));
        assertArrayEquals(new byte[] {1, 2, 3}, r.pngs().get(1));
        assertEquals(0x123456, Codec.image(r.pngs().get(0)).getRGB(2, 1) & 0xFFFFFF);
    }

    @Test
    void aFailureKeepsItsReason() {
        Codec.Result r = Codec.result(Codec.failed("w", 0.5, "unknown model 'x' on this worker"));
        assertTrue(r.failed());
        assertEquals("unknown model 'x' on this worker", r.error());
        assertTrue(r.pngs().isEmpty());
    }

    @Test
    void aTruncatedResultIsRefused() {
        byte[] blob = Codec.done("w", 1, List.of(1L), List.of(new byte[100]));
        assertThrows(UncheckedIOException.class, () -> Codec.result(Arrays.copyOf(blob, 20)));
        assertThrows(UncheckedIOException.class, () -> Codec.image(new byte[] {1, 2, 3}));
    }

    @Test
    void optionsRoundTripWithoutTheUnsetOnes() {
        Map<String, String> o = new LinkedHashMap<>();
        o.put("samples", "4");
        o.put("seed", "0");
        o.put("sampler", null);
        o.put("checkpoint", "/models/a=b.safetensors");
        Map<String, String> back = Codec.options(Codec.options(o));
        assertEquals(Map.of("samples", "4", "seed", "0", "checkpoint", "/models/a=b.safetensors"), back);
        assertNull(back.get("sampler"));
    }
}
