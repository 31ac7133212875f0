package dev.sisma.model;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;

class SismaConfigTest {
    @TempDir
    Path dir;

    @Test
    void namedConfigs() {
        SismaConfig l = SismaConfig.named("sisma-L/2");
        assertEquals(24, l.depth());
        assertEquals(1024, l.hidden());
        assertEquals(64, l.dtRank());
        assertEquals(256, l.tokens());
        assertEquals(256, l.imageSize());
        assertEquals(4, l.inChannels());
        assertEquals(SismaConfig.ScanSchedule.ROWCOL4, l.scanSchedule());
        assertEquals(200, l.sampleSteps());
        SismaConfig b = SismaConfig.named("sisma-B/2");
        assertEquals(12, b.depth());
        assertEquals(768, b.hidden());
        assertEquals(48, b.dtRank());
        assertEquals(384, SismaConfig.named("sisma-S/2").hidden());
        SismaConfig demo = SismaConfig.named("demo");
        assertEquals(SismaConfig.Space.PIXEL, demo.space());
        assertEquals(3, demo.inChannels());
        assertEquals(64, demo.tokens()); // patch 4: a training step of batch 16 takes about 1.4 s on 2 cores
        assertEquals(8, demo.dtRank());
    }

    @Test
    void unknownNameSuggestsTheNearest() {
        InputException e = assertThrows(InputException.class, () -> SismaConfig.named("sisma-L2"));
        assertTrue(e.getMessage().contains("did you mean sisma-L/2"), e.getMessage());
    }

    @Test
    void jsonRoundTrip() throws Exception {
        SismaConfig c = SismaConfig.named("demo").with("depth", 2, "scan_schedule", "snake8", "mask_dropout", 0.25);
        Path f = dir.resolve("my.json");
        c.write(f);
        assertEquals(c, SismaConfig.read(f));
        assertTrue(Files.readString(f).contains("\"dt_rank\": \"auto\""));
        // dt_rank "auto" follows hidden when a copied config is edited
        assertEquals(4, SismaConfig.read(f).with("hidden", 64).dtRank());
        try (var s = Files.list(dir)) {
            assertEquals(1, s.count(), "no temp file left behind");
        }
    }

    @Test
    void errorsNameTheFileAndTheField() throws Exception {
        Path f = dir.resolve("bad.json");
        Files.writeString(f, "{\"hidden\": 130}");
        InputException e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertTrue(e.getMessage().startsWith(f + ": field hidden"), e.getMessage());

        Files.writeString(f, "{\"depht\": 3}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertEquals(f + ": unknown field \"depht\" (did you mean \"depth\"?)", e.getMessage());

        Files.writeString(f, "{\"depth\": \"four\"}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertEquals(f + ": field depth: expected an integer, got \"four\"", e.getMessage());

        Files.writeString(f, "{\"scan_schedule\": \"zigzag\"}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertTrue(e.getMessage().contains("field scan_schedule: expected one of \"rowcol4\", \"raster\", \"snake8\""), e.getMessage());

        Files.writeString(f, "{\"mask_dropout\": 0.1}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertTrue(e.getMessage().contains("needs null_mask: true"), e.getMessage());

        Files.writeString(f, "{\"depth\": 3,}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertTrue(e.getMessage().startsWith(f + ": not a JSON config object: line 1"), e.getMessage());

        Files.writeString(f, "{\"input_size\": 30}");
        e = assertThrows(InputException.class, () -> SismaConfig.read(f));
        assertTrue(e.getMessage().contains("field image_size"), e.getMessage());

        e = assertThrows(InputException.class, () -> SismaConfig.read(dir.resolve("missing.json")));
        assertTrue(e.getMessage().startsWith(dir.resolve("missing.json") + ": cannot read"), e.getMessage());
    }
}
