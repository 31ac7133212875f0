package dev.sisma.ui.swt.internal.editor;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.FillLayout;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Shell;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.ui.swt.internal.doc.MaskDocument;
import dev.sisma.ui.swt.internal.generate.GeneratePanel;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * GTK prints its warnings from native code straight to file descriptor 2, past Java's System.err:
 * the Generate panel runs in a JVM of its own here, laid out wide and squeezed narrow, and that
 * JVM's stderr must hold no Gtk-CRITICAL (a spin button given less than its minimum width printed
 * "gtk_box_gadget_distribute: assertion 'size >= 0' failed in GtkSpinButton" on every layout).
 */
class GtkWarningsTest {
    @TempDir
    Path tmp;

    @Test
    void theGeneratePanelLaysOutWithoutGtkCriticals() throws Exception {
        SwtDisplay.xServer();
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Path err = tmp.resolve("err.txt");
        ProcessBuilder pb = new ProcessBuilder(java, "--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-cp", System.getProperty("java.class.path"), Panel.class.getName())
                .redirectError(err.toFile()).redirectOutput(tmp.resolve("out.txt").toFile());
        pb.environment().put("DISPLAY", SwtDisplay.displayName());
        pb.environment().put("NO_AT_BRIDGE", "1");
        Process p = pb.start();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "the panel's JVM did not exit");
        String text = Files.readString(err, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), text);
        assertTrue(Files.readString(tmp.resolve("out.txt")).contains("laid out"), text);
        assertFalse(text.contains("CRITICAL"), text);
        assertFalse(text.contains("Gtk-WARNING"), text);
    }

    /** The child: the Generate panel with a generator, shown at a few sizes down to a narrow one. */
    public static final class Panel {
        public static void main(String[] args) throws Exception {
            Display display = new Display();
            Shell shell = new Shell(display);
            shell.setLayout(new FillLayout());
            GeneratorSource source = new GeneratorSource();
            source.set(new TestGenerator(0));
            GeneratePanel panel = new GeneratePanel(shell, source, new MaskDocument(64, 64), () -> null);
            shell.setSize(900, 600);
            shell.open();
            for (int[] size : List.of(new int[] {900, 600}, new int[] {500, 400}, new int[] {200, 300}, new int[] {60, 80})) {
                shell.setSize(size[0], size[1]);
                shell.layout(true, true);
                long end = System.nanoTime() + 300_000_000L;
                while (System.nanoTime() < end) {
                    while (display.readAndDispatch()) {
                        // drain
                    }
                    Thread.sleep(10);
                }
            }
            panel.useModelDefaults(false);
            panel.setSteps(7);
            panel.useModelDefaults(true);
            while (display.readAndDispatch()) {
                // drain
            }
            System.out.println("laid out, showing " + panel.shownSampling());
            shell.dispose();
            display.dispose();
        }
    }
}
