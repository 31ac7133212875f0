package dev.sisma.api.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.nio.file.Path;

import org.junit.jupiter.api.Test;

import dev.sisma.api.cli.UsageException;
import dev.sisma.api.mask.Mask;

class WeightFormatTest {
    @Test
    void namesParseIgnoringCaseAndBlanks() {
        assertEquals(WeightFormat.F32, WeightFormat.parse("f32"));
        assertEquals(WeightFormat.BF16, WeightFormat.parse(" BF16 "));
        assertEquals(WeightFormat.F16, WeightFormat.parse("f16"));
        for (WeightFormat f : WeightFormat.values()) {
            assertEquals(f, WeightFormat.parse(f.id()));
        }
        assertEquals("f32, bf16, f16", WeightFormat.choices());
    }

    @Test
    void anUnknownNameSaysItselfAndTheChoicesOnOneLine() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse("fp8"));
        assertEquals("unknown weight format 'fp8'; choices: f32, bf16, f16", e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse(""));
        assertThrows(IllegalArgumentException.class, () -> WeightFormat.parse(null));
        UsageException u = assertThrows(UsageException.class, () -> WeightFormat.option("float32"));
        assertEquals("--weights: unknown weight format 'float32'; choices: f32, bf16, f16", u.getMessage());
        assertNull(WeightFormat.option(null), "no option: the generator's default");
        assertEquals(WeightFormat.BF16, WeightFormat.option("bf16"));
    }

    @Test
    void aRequestKeepsItsFormatThroughItsDefaults() {
        Mask m = new Mask(2, 2, new byte[4]);
        GenerationRequest r = new GenerationRequest(m, 1, 0, 0, null, Double.NaN, Path.of("m.safetensors"), null, null, WeightFormat.F16);
        assertEquals(WeightFormat.F16, r.withDefaults("euler", 5, 1.0).weights());
        assertNull(new GenerationRequest(m, 1, 0, 0, null, Double.NaN, null, null).weights(), "older constructors: the default format");
    }
}
