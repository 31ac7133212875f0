package dev.sisma.ui.swt.internal.editor;

import static dev.sisma.ui.swt.internal.editor.SwtDisplay.run;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.settle;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.sync;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.waitFor;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;

import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.RGB;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Canvas;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Display;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.engine.Backends;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.internal.SismaGenerator;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.Samplers;
import dev.sisma.ui.swt.internal.generate.GeneratePanel;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * Generate in the real editor against the REAL generator: {@link SismaGenerator} on the bundled demo
 * model (32x32 pixel-space faces) on the CPU backend, built as SCR would build it (the Backends
 * service it is given, the built-in samplers bound through its DS bind method). The mask is
 * {@code examples/face-1.png} (long hair, clothes). Same display handling as {@link EditorUiTest}
 * (own Xvfb when DISPLAY is unset; under CI=true no display FAILS). The screenshot
 * {@code target/screenshots/editor-demo-model.png} is the one in the README (docs/editor.png).
 */
class DemoModelGenerateUiTest {
    static final int SEED = 7;
    static final int STEPS = 4;

    static CpuBackend cpu;
    static SismaGenerator sisma;

    @TempDir
    Path tmp;

    @BeforeAll
    static void generator() throws Exception {
        cpu = new CpuBackend(2);
        Backend be = cpu;
        sisma = new SismaGenerator(new Backends() {
            @Override
            public List<Backend> all() {
                return List.of(be);
            }

            @Override
            public Optional<Backend> current() {
                return Optional.of(be);
            }

            @Override
            public Optional<Backend> byName(String name) {
                return be.name().equals(name) ? Optional.of(be) : Optional.empty();
            }

            @Override
            public String preferred() {
                return null;
            }
        });
        // The DS bind method (package-private: SCR calls it), as the OpenCL generate test does.
        Method bind = SismaGenerator.class.getDeclaredMethod("addSampler", Sampler.class);
        bind.setAccessible(true);
        for (Sampler s : Samplers.builtIn()) {
            bind.invoke(sisma, s);
        }
    }

    @AfterAll
    static void release() throws Exception {
        if (sisma != null) {
            // Closes the loaded model and deletes the unpacked demo model, as SCR's deactivate would.
            Method deactivate = SismaGenerator.class.getDeclaredMethod("deactivate");
            deactivate.setAccessible(true);
            deactivate.invoke(sisma);
        }
        if (cpu != null) {
            cpu.close();
        }
    }

    /** The real generator, recording the threads it is called on. */
    static final class Recording implements Generator {
        final List<String> threads = new CopyOnWriteArrayList<>();

        @Override
        public List<String> samplers() {
            return sisma.samplers();
        }

        @Override
        public Optional<dev.sisma.api.generate.SamplingDefaults> defaults(Path checkpoint) {
            return sisma.defaults(checkpoint);
        }

        @Override
        public List<GeneratedImage> generate(GenerationRequest request, Progress progress) {
            threads.add(Thread.currentThread().getName());
            return sisma.generate(request, progress);
        }
    }

    @Test
    void generatesDemoModelFacesInTheBackgroundThatFollowTheMask() throws Exception {
        Display display = SwtDisplay.get();
        Files.createDirectories(EditorUiTest.SCREENSHOTS);
        Recording generator = new Recording();
        GeneratorSource generators = new GeneratorSource();
        generators.set(generator);
        Path example = examples().resolve("face-1.png");
        EditorWindow window = sync(() -> {
            EditorWindow w = new EditorWindow(display, generators, new Autosave(tmp.resolve("autosave")), EditorUiTest::starter);
            w.editor().setPrompter(new EditorUiTest.ScriptedPrompter());
            w.shell().setBounds(0, 0, 1200, 760);
            w.open(example);
            w.shell().forceActive();
            return w;
        });
        try {
            settle();
            MaskEditor editor = window.editor();
            GeneratePanel panel = editor.generatePanel();
            Mask mask = sync(() -> editor.document().snapshot());
            assertEquals(MaskFiles.readIndex(example), mask, "the editor opened examples/face-1.png");
            assertEquals(List.of("euler", "heun"), Arrays.asList(sync(panel::samplerNames)));
            // "Model defaults" shows the demo model's own sampler, steps and guidance, the ones a run uses
            assertTrue(sync(panel::usesModelDefaults));
            assertEquals(sisma.defaults(null).orElseThrow(), sync(panel::shownSampling));
            SismaConfig demo = SismaConfig.named("demo");
            assertEquals(new dev.sisma.api.generate.SamplingDefaults(demo.sampler(), demo.sampleSteps(), demo.cfgScale()),
                    sync(panel::shownSampling));

            // A UI-thread timer ticks every 20 ms for as long as the job runs: the gaps between
            // ticks show whether the display kept processing events while the model worked.
            List<Long> ticks = new CopyOnWriteArrayList<>();
            boolean[] ticking = {true};
            Runnable[] tick = new Runnable[1];
            tick[0] = () -> {
                ticks.add(System.nanoTime());
                if (ticking[0]) {
                    display.timerExec(20, tick[0]);
                }
            };
            long t0 = System.nanoTime();
            long generateCallNanos = sync(() -> {
                display.timerExec(20, tick[0]);
                panel.setSamples(2);
                panel.setSteps(STEPS);
                panel.setSeed(SEED);
                panel.selectSampler("heun");
                long s = System.nanoTime();
                panel.generate();
                return System.nanoTime() - s;
            });
            assertTrue(sync(panel::isBusy), "the job runs after generate() returned");
            waitFor("2 samples from the demo model", 60_000, () -> !panel.isBusy() && panel.samples().size() == 2);
            long t1 = System.nanoTime();
            run(() -> ticking[0] = false);
            double seconds = (t1 - t0) / 1e9;
            String status = sync(panel::statusText);
            assertTrue(status.startsWith("2 sample(s) in"), status);

            // Never on the UI thread, and the UI thread kept going.
            assertEquals(1, generator.threads.size());
            assertFalse(generator.threads.contains("swt-ui"), "generated on " + generator.threads);
            assertTrue(generateCallNanos < 200_000_000L, "Generate returned after " + generateCallNanos / 1e6 + " ms");
            long maxGap = 0;
            int during = 0;
            for (int i = 1; i < ticks.size(); i++) {
                if (ticks.get(i) <= t1) {
                    during++;
                    maxGap = Math.max(maxGap, ticks.get(i) - ticks.get(i - 1));
                }
            }
            System.out.printf("demo model: 2 samples, %d heun steps in %.2f s; %d UI timer ticks meanwhile, longest gap %.0f ms%n",
                    STEPS, seconds, during, maxGap / 1e6);
            assertTrue(during >= seconds * 1000 / 20 / 4, during + " timer ticks in " + seconds + " s");
            assertTrue(maxGap < 500_000_000L, "the UI thread stalled for " + maxGap / 1e6 + " ms");

            // The samples: the real model's output, one per seed, different between seeds.
            List<GeneratedImage> samples = sync(panel::samples);
            assertEquals(List.of((long) SEED, (long) SEED + 1), samples.stream().map(GeneratedImage::seed).toList());
            for (GeneratedImage g : samples) {
                assertEquals(32, g.width(), "the demo model paints 32x32");
                assertEquals(32, g.height());
            }
            assertTrue(meanAbsDiff(samples.get(0).rgb(), samples.get(1).rgb()) > 3, "the two seeds give different faces");
            // Sample i depends on seed + i only: the second, generated alone, is the same picture
            // (within rounding: the Vector API's transcendentals may differ between interpreter and JIT).
            // (the guidance the panel ran with: the model's default, kept when its own settings were chosen)
            double guidance = sync(panel::shownSampling).cfgScale();
            GeneratedImage alone = sisma.generate(new GenerationRequest(mask, 1, SEED + 1, STEPS, "heun", guidance, null, null), Progress.NONE)
                    .getFirst();
            assertTrue(meanAbsDiff(alone.rgb(), samples.get(1).rgb()) < 1.0, "the panel shows the generator's picture for seed " + (SEED + 1));

            // The samples as the panel's widgets show them on screen.
            List<int[]> shown = sync(() -> {
                List<Canvas> cells = new ArrayList<>();
                sampleCanvases(panel, cells);
                List<int[]> out = new ArrayList<>();
                for (Canvas c : cells) {
                    out.add(readBack(display, c, 32, 32));
                }
                return out;
            });
            assertEquals(2, shown.size(), "two sample cells in the panel");
            for (int i = 0; i < 2; i++) {
                double d = meanAbsDiff(shown.get(i), samples.get(i).rgb());
                assertTrue(d < 6, "cell " + i + " shows sample " + i + " (mean channel difference " + d + ")");
            }
            assertTrue(meanAbsDiff(shown.get(0), shown.get(1)) > 3, "the cells show two different faces");

            // The colours follow the mask: hair and background are told apart in every sample, on screen.
            Mask small = mask.resizeNearest(32, 32);
            for (int i = 0; i < 2; i++) {
                double[] hair = meanColour(shown.get(i), small, FaceClass.HAIR.index());
                double[] background = meanColour(shown.get(i), small, FaceClass.BACKGROUND.index());
                double[] skin = meanColour(shown.get(i), small, FaceClass.SKIN.index());
                double hb = distance(hair, background), sb = distance(skin, background), sh = distance(skin, hair);
                System.out.printf("sample %d: hair %s, background %s, skin %s; hair-bg %.0f, skin-bg %.0f, skin-hair %.0f%n", i,
                        fmt(hair), fmt(background), fmt(skin), hb, sb, sh);
                assertTrue(hb > 30, "sample " + i + ": hair " + fmt(hair) + " vs background " + fmt(background));
            }
            // Pointer off the shell, so no tooltip covers the picture.
            org.eclipse.swt.widgets.Event away = new org.eclipse.swt.widgets.Event();
            away.type = org.eclipse.swt.SWT.MouseMove;
            away.x = 1500;
            away.y = 1100;
            assertTrue(sync(() -> display.post(away)));
            SwtDisplay.sleep(300);
            EditorUiTest.screenshot(display, window.shell(), "editor-demo-model.png");
        } finally {
            run(() -> {
                if (!window.shell().isDisposed()) {
                    window.editor().document().markSaved(null);
                    window.shell().dispose();
                }
            });
        }
    }

    /** The panel's sample cells (their tooltip names the seed). */
    private static void sampleCanvases(Composite c, List<Canvas> out) {
        for (var child : c.getChildren()) {
            if (child instanceof Canvas cv && cv.getToolTipText() != null && cv.getToolTipText().startsWith("seed ")) {
                out.add(cv);
            } else if (child instanceof Composite k) {
                sampleCanvases(k, out);
            }
        }
    }

    /**
     * The w x h picture a sample canvas draws (scaled to fit, centred), read back from the screen
     * with GC.copyArea at the centre of each source pixel's block, where scaling changes nothing.
     */
    private static int[] readBack(Display display, Canvas c, int w, int h) {
        c.redraw();
        c.update();
        Rectangle area = c.getClientArea();
        double s = Math.min(area.width / (double) w, area.height / (double) h);
        assertTrue(s >= 2, "sample cell " + area + " too small to read back");
        int dw = (int) (w * s), dh = (int) (h * s), ox = (area.width - dw) / 2, oy = (area.height - dh) / 2;
        Image img = new Image(display, area.width, area.height);
        GC gc = new GC(c);
        try {
            gc.copyArea(img, 0, 0);
            ImageData d = img.getImageData();
            int[] rgb = new int[w * h];
            for (int y = 0; y < h; y++) {
                for (int x = 0; x < w; x++) {
                    RGB p = d.palette.getRGB(d.getPixel(ox + (int) ((x + 0.5) * s), oy + (int) ((y + 0.5) * s)));
                    rgb[y * w + x] = p.red << 16 | p.green << 8 | p.blue;
                }
            }
            return rgb;
        } finally {
            gc.dispose();
            img.dispose();
        }
    }

    private static double meanAbsDiff(int[] a, int[] b) {
        assertEquals(a.length, b.length);
        long sum = 0;
        for (int i = 0; i < a.length; i++) {
            for (int sh = 0; sh <= 16; sh += 8) {
                sum += Math.abs(((a[i] >> sh) & 0xFF) - ((b[i] >> sh) & 0xFF));
            }
        }
        return sum / (3.0 * a.length);
    }

    private static double[] meanColour(int[] rgb, Mask mask, int cls) {
        double[] m = new double[3];
        int n = 0;
        for (int i = 0; i < rgb.length; i++) {
            if (mask.classAt(i % mask.width(), i / mask.width()) == cls) {
                m[0] += (rgb[i] >> 16) & 0xFF;
                m[1] += (rgb[i] >> 8) & 0xFF;
                m[2] += rgb[i] & 0xFF;
                n++;
            }
        }
        assertTrue(n >= 20, "only " + n + " pixels of class " + cls + " in the 32x32 mask");
        for (int k = 0; k < 3; k++) {
            m[k] /= n;
        }
        return m;
    }

    private static double distance(double[] a, double[] b) {
        return Math.sqrt((a[0] - b[0]) * (a[0] - b[0]) + (a[1] - b[1]) * (a[1] - b[1]) + (a[2] - b[2]) * (a[2] - b[2]));
    }

    private static String fmt(double[] c) {
        return String.format("(%.0f, %.0f, %.0f)", c[0], c[1], c[2]);
    }

    static Path examples() {
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("examples").resolve("face-1.png"))) {
                return p.resolve("examples");
            }
        }
        throw new IllegalStateException("examples/face-1.png not found above " + Path.of("").toAbsolutePath());
    }
}
