package dev.sisma.engine.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.BinaryOp;
import dev.sisma.engine.spi.CompareOp;
import dev.sisma.engine.spi.ReduceOp;
import dev.sisma.engine.spi.UnaryOp;

/**
 * engine.kernels/sk_ops.h is exactly what the SPI enums generate, and every op has its case in the
 * kernels: a new enum constant fails here until the header is regenerated and the kernels handle it.
 */
class OpCodesHeaderTest {
    private static final Path KERNELS = Path.of(System.getProperty("sisma.kernels", "../engine.kernels"));

    @Test
    void checkedInHeaderIsWhatTheEnumsGenerate() throws IOException {
        Path file = KERNELS.resolve(OpCodes.HEADER);
        String expected = OpCodes.header();
        if (Boolean.getBoolean("sisma.kernels.regenerate")) {
            Path tmp = Files.createTempFile(KERNELS, ".sk_ops", ".tmp");
            Files.writeString(tmp, expected, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        }
        String actual = Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "(missing)";
        assertEquals(expected, actual, file + " is stale: regenerate it with "
                + "mvn -o -q test -pl engine.gpu -Dsisma.kernels.regenerate=true");
    }

    @Test
    void everyOpHasItsCaseInTheKernels() throws IOException {
        Set<String> cases = new HashSet<>();
        for (String f : List.of("elementwise.cl", "reduce_norm.cl")) {
            Matcher m = Pattern.compile("case\\s+(SK_[A-Z_0-9]+)\\s*:").matcher(Files.readString(KERNELS.resolve(f)));
            while (m.find()) cases.add(m.group(1));
        }
        for (UnaryOp op : UnaryOp.values()) assertTrue(cases.contains("SK_UNARY_" + op), "no kernel case for UnaryOp." + op);
        for (BinaryOp op : BinaryOp.values()) assertTrue(cases.contains("SK_BINARY_" + op), "no kernel case for BinaryOp." + op);
        for (CompareOp op : CompareOp.values()) assertTrue(cases.contains("SK_COMPARE_" + op), "no kernel case for CompareOp." + op);
        for (ReduceOp op : ReduceOp.values()) assertTrue(cases.contains("SK_REDUCE_" + op), "no kernel case for ReduceOp." + op);
    }

    @Test
    void comparisonsAreNumberedAfterTheBinaryOps() {
        Set<Integer> codes = new HashSet<>();
        for (BinaryOp op : BinaryOp.values()) codes.add(OpCodes.code(op));
        for (CompareOp op : CompareOp.values()) assertTrue(codes.add(OpCodes.code(op)), "code of " + op + " taken twice");
        assertEquals(BinaryOp.values().length + CompareOp.values().length, codes.size());
    }
}
