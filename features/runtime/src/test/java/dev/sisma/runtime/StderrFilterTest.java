package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

import org.junit.jupiter.api.Test;

/**
 * {@code bin/stderr-filter.pl}, which {@code ./sisma} puts on the JVM's stderr: the start-up
 * warnings go, everything else passes, and a progress line rewritten in place with \r reaches the
 * terminal while it is being written, not when its line ends.
 */
class StderrFilterTest {

    static Process filter() throws Exception {
        Path script = Path.of(System.getProperty("sisma.repo"), "bin", "stderr-filter.pl");
        return new ProcessBuilder("perl", script.toString()).start();
    }

    @Test
    void dropsTheStartupWarningsAndKeepsTheRest() throws Exception {
        Process p = filter();
        try (OutputStream in = p.getOutputStream()) {
            in.write(("WARNING: Using incubator modules: jdk.incubator.vector\n"
                    + "WARNING: sun.misc.Unsafe::objectFieldOffset has been called by x\n"
                    + "WARNING: disk almost full\n"
                    + "sisma: face-1.png: 73% of pixels are off the palette\n"
                    + "\rstep 1/2\rstep 2/2\n").getBytes(StandardCharsets.UTF_8));
        }
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
        assertEquals("WARNING: disk almost full\nsisma: face-1.png: 73% of pixels are off the palette\n\rstep 1/2\rstep 2/2\n",
                new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8));
    }

    @Test
    void aProgressLineArrivesBeforeItsLineEnds() throws Exception {
        Process p = filter();
        OutputStream in = p.getOutputStream();
        InputStream out = p.getInputStream();
        in.write("\rsampling 3/25".getBytes(StandardCharsets.UTF_8));
        in.flush();
        byte[] expected = "\rsampling 3/25".getBytes(StandardCharsets.UTF_8);
        byte[] got = new byte[expected.length];
        int n = 0;
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
        while (n < got.length && System.nanoTime() < deadline) {
            if (out.available() > 0) {
                n += out.read(got, n, got.length - n);
            } else {
                Thread.sleep(10);
            }
        }
        assertEquals("\rsampling 3/25", new String(got, 0, n, StandardCharsets.UTF_8), "the unfinished line did not come through");
        in.close();
        assertTrue(p.waitFor(10, TimeUnit.SECONDS));
    }
}
