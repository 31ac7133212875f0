package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.junit.jupiter.api.Test;

/**
 * The fatbin the build carries (build-kernels.sh): compiled from the kernel sources as they are
 * now, with every kernel of the sources in it as SASS. Where the build had no nvcc the bundle
 * carries none, or an earlier one of the same sources.
 */
class KernelBinaryTest {
    private static final Path KERNELS = Path.of("..", "engine.kernels");

    private static boolean nvccPresent() {
        String nvcc = System.getenv().getOrDefault("NVCC", "nvcc");
        try {
            return new ProcessBuilder(nvcc, "--version").redirectErrorStream(true).start().waitFor() == 0;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    /** sha256 of kernels.list and its files, as build-kernels.sh computes it. */
    private static String sourcesHash() throws IOException, NoSuchAlgorithmException {
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        all.write(Files.readAllBytes(KERNELS.resolve("kernels.list")));
        for (String f : files()) all.write(Files.readAllBytes(KERNELS.resolve(f)));
        return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(all.toByteArray()));
    }

    private static List<String> files() throws IOException {
        return Files.readAllLines(KERNELS.resolve("kernels.list")).stream().map(String::strip)
                .filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    @Test
    void theCarriedFatbinIsOfTheCurrentSourcesAndHasEveryKernel() throws Exception {
        KernelBinary.Image image = KernelBinary.load();
        if (nvccPresent()) assertNotNull(image, "nvcc is present but the build carries no fatbin");
        if (image == null) return; // built without nvcc: the backend says so (CuRuntime.open)
        assertEquals(sourcesHash(), image.properties().getProperty("sources.sha256"),
                "the fatbin was compiled from other kernel sources than engine.kernels/ has now");
        String bin = new String(image.fatbin(), StandardCharsets.ISO_8859_1);
        List<String> missing = new ArrayList<>();
        int kernels = 0;
        for (String f : files()) {
            Matcher m = Pattern.compile("KERNEL\\s+void\\s+(\\w+)\\s*\\(").matcher(Files.readString(KERNELS.resolve(f)));
            while (m.find()) {
                kernels++;
                if (!bin.contains(".text." + m.group(1) + "\0")) missing.add(m.group(1));
            }
        }
        assertTrue(kernels >= 35, "found only " + kernels + " kernels in the sources");
        assertTrue(missing.isEmpty(), "kernels without SASS in the fatbin: " + missing);
        assertEquals(256, image.rowGroup());
    }
}
