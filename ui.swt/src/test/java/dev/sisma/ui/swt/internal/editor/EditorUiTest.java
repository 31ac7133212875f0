package dev.sisma.ui.swt.internal.editor;

import static dev.sisma.ui.swt.internal.editor.SwtDisplay.run;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.settle;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.sync;
import static dev.sisma.ui.swt.internal.editor.SwtDisplay.waitFor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;

import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.ImageLoader;
import org.eclipse.swt.graphics.Point;
import org.eclipse.swt.graphics.RGB;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Event;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.ui.swt.internal.doc.Brush;
import dev.sisma.ui.swt.internal.doc.MaskDocument;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * The editor with real SWT widgets on a real X display, driven by real mouse and key events
 * ({@link Display#post}), checked in the document and in the canvas pixels (GC.copyArea).
 *
 * <p>Headless: CHOSEN = the tests start their own Xvfb when DISPLAY is unset (free display number,
 * DISPLAY set through libc setenv before GTK starts; see {@link SwtDisplay}), so a plain
 * {@code mvn verify} works in CI; under {@code xvfb-run -a} (what {@code ./run-tests} does) or on a
 * desktop they use the display they are given. Under CI=true a missing display/GTK FAILS the tests;
 * locally they are skipped with a message. Screenshots go to {@code target/screenshots}.
 */
class EditorUiTest {
    static final Path SCREENSHOTS = Path.of("target", "screenshots");
    static final int HAIR = FaceClass.HAIR.index();
    static final int SKIN = FaceClass.SKIN.index();

    @TempDir
    Path tmp;
    Display display;
    EditorWindow window;
    MaskEditor editor;
    GeneratorSource generators;
    TestGenerator generator;
    ScriptedPrompter prompter;

    /** Answers the editor's questions from a queue and records them. */
    static final class ScriptedPrompter implements Prompter {
        final Deque<Object> answers = new ArrayDeque<>();
        final List<String> asked = new java.util.ArrayList<>();

        @Override
        public Answer ask(String title, String message, boolean withCancel) {
            asked.add(title + ": " + message);
            return (Answer) answers.poll();
        }

        @Override
        public Path openFile(String title, String[] extensions, String[] names) {
            asked.add(title);
            return (Path) answers.poll();
        }

        @Override
        public Path saveFile(String title, String suggestedName, String[] extensions, String[] names) {
            asked.add(title);
            return (Path) answers.poll();
        }

        @Override
        public void error(String title, String message) {
            asked.add("ERROR " + title + ": " + message);
        }
    }

    @BeforeEach
    void open() throws Exception {
        display = SwtDisplay.get();
        Files.createDirectories(SCREENSHOTS);
        generator = new TestGenerator(2);
        generators = new GeneratorSource();
        generators.set(generator);
        prompter = new ScriptedPrompter();
        window = openWindow(new Autosave(tmp.resolve("autosave")), null);
        editor = window.editor();
    }

    EditorWindow openWindow(Autosave autosave, Path initial) {
        EditorWindow w = sync(() -> {
            EditorWindow ew = new EditorWindow(display, generators, autosave, seed -> starter(seed));
            ew.editor().setPrompter(prompter);
            ew.shell().setBounds(0, 0, 1200, 760);
            ew.open(initial);
            ew.shell().forceActive();
            return ew;
        });
        settle();
        return w;
    }

    /** Starter faces from the data bundle's synthetic face generator, as the edit command uses. */
    static Mask starter(long seed) {
        return new dev.sisma.data.synth.SyntheticFaces(5).mask(seed, MaskEditor.NEW_SIZE);
    }

    @AfterEach
    void close() {
        if (window != null) {
            run(() -> {
                if (!window.shell().isDisposed()) {
                    window.editor().document().markSaved(null);
                    window.shell().dispose();
                }
            });
        }
    }

    // ------------------------------------------------------------------ event helpers

    /** Display coordinates of the centre of mask pixel (ix, iy). */
    Point at(int ix, int iy) {
        return sync(() -> {
            Viewport vp = editor.canvas().viewport();
            return editor.canvas().toDisplay((int) Math.floor(vp.screenX(ix + 0.5)), (int) Math.floor(vp.screenY(iy + 0.5)));
        });
    }

    void move(Point p) {
        Event e = new Event();
        e.type = SWT.MouseMove;
        e.x = p.x;
        e.y = p.y;
        assertTrue(sync(() -> display.post(e)));
        SwtDisplay.sleep(5);
    }

    void button(int type, int button) {
        Event e = new Event();
        e.type = type;
        e.button = button;
        assertTrue(sync(() -> display.post(e)));
        SwtDisplay.sleep(5);
    }

    /** A left-button drag through the given mask pixels, posted as real events. */
    void drag(int... xy) {
        move(at(xy[0], xy[1]));
        settle();
        button(SWT.MouseDown, 1);
        for (int i = 2; i + 1 < xy.length; i += 2) {
            Point a = at(xy[i - 2], xy[i - 1]), b = at(xy[i], xy[i + 1]);
            for (int k = 1; k <= 8; k++) {
                move(new Point(a.x + (b.x - a.x) * k / 8, a.y + (b.y - a.y) * k / 8));
            }
            // GTK merges queued motion events; pausing at each waypoint keeps the corners.
            settle();
        }
        settle();
        button(SWT.MouseUp, 1);
        settle();
    }

    void click(int ix, int iy) {
        drag(ix, iy);
    }

    void key(int modifier, char c) {
        if (modifier != 0) {
            keyEvent(SWT.KeyDown, modifier, (char) 0);
        }
        keyEvent(SWT.KeyDown, 0, c);
        keyEvent(SWT.KeyUp, 0, c);
        if (modifier != 0) {
            keyEvent(SWT.KeyUp, modifier, (char) 0);
        }
        settle();
    }

    void keyEvent(int type, int keyCode, char c) {
        Event e = new Event();
        e.type = type;
        e.keyCode = keyCode;
        e.character = c;
        assertTrue(sync(() -> display.post(e)));
        SwtDisplay.sleep(5);
    }

    /** Moves the pointer off the canvas so the brush outline is not in the pixels read back. */
    void pointerAway() {
        Point p = sync(() -> editor.generatePanel().toDisplay(5, 5));
        move(p);
        settle();
    }

    /** The colour the canvas shows at mask pixel (ix, iy), read back from the screen with GC.copyArea. */
    int shownRgb(int ix, int iy) {
        return sync(() -> {
            MaskCanvas c = editor.canvas();
            c.redraw();
            c.update();
            Rectangle r = c.getClientArea();
            Image img = new Image(display, r.width, r.height);
            GC gc = new GC(c);
            try {
                gc.copyArea(img, 0, 0);
                ImageData d = img.getImageData();
                Viewport vp = c.viewport();
                int sx = (int) Math.floor(vp.screenX(ix + 0.5)), sy = (int) Math.floor(vp.screenY(iy + 0.5));
                RGB rgb = d.palette.getRGB(d.getPixel(sx, sy));
                return (rgb.red << 16) | (rgb.green << 8) | rgb.blue;
            } finally {
                gc.dispose();
                img.dispose();
            }
        });
    }

    void screenshot(String name) throws Exception {
        screenshot(display, window.shell(), name);
    }

    /** Saves the shell's area of the screen as {@code target/screenshots/<name>}. */
    static void screenshot(Display display, org.eclipse.swt.widgets.Shell shell, String name) throws Exception {
        settle();
        sync(() -> {
            Rectangle b = shell.getBounds();
            Image img = new Image(display, b.width, b.height);
            GC gc = new GC(display);
            try {
                gc.copyArea(img, b.x, b.y);
                ImageLoader l = new ImageLoader();
                l.data = new ImageData[] {img.getImageData()};
                l.save(SCREENSHOTS.resolve(name).toString(), SWT.IMAGE_PNG);
            } finally {
                gc.dispose();
                img.dispose();
            }
            return null;
        });
    }

    /** The real CelebAMask-HQ sample in the repository ({@code testdata/}, passed by the parent pom). */
    static Path mini() {
        return Path.of(System.getProperty("sisma.testdata"), "celebamask-hq-mini");
    }

    /** Hair pixels per row band, for failure messages. */
    static String rows(MaskDocument doc) {
        return sync(() -> {
            StringBuilder sb = new StringBuilder();
            for (int y = 90; y <= 210; y += 5) {
                sb.append("\ny=").append(y).append(' ');
                for (int x = 90; x <= 310; x += 4) {
                    sb.append(doc.classAt(x, y) == HAIR ? '#' : '.');
                }
            }
            return sb.toString();
        });
    }

    // ------------------------------------------------------------------ tests

    @Test
    void paintFillShapesUndoRedoWithRealEvents() throws Exception {
        MaskDocument doc = editor.document();
        run(() -> {
            editor.tools().setCls(HAIR);
            editor.tools().setBrush(new Brush(Brush.Shape.ROUND, 10));
        });
        drag(100, 100, 300, 100, 300, 200);
        assertEquals(1, sync(doc::undoCount), "the whole drag is one undoable stroke");
        for (int x = 100; x <= 300; x += 20) {
            int px = x;
            assertEquals(HAIR, (int) sync(() -> doc.classAt(px, 100)), () -> "stroke at " + px + ",100: " + rows(doc));
        }
        // A 10-pixel brush reaches 4 pixels either side of the line (pointer rounding may move it by one).
        int[] probe = {200, 102, 200, 97, 302, 150, 297, 200};
        for (int i = 0; i < probe.length; i += 2) {
            int x = probe[i], y = probe[i + 1];
            assertEquals(HAIR, (int) sync(() -> doc.classAt(x, y)), "stroke at " + x + "," + y);
        }
        assertEquals(0, (int) sync(() -> doc.classAt(200, 120)));
        assertTrue(sync(doc::isDirty));
        pointerAway();
        assertEquals(FaceClass.HAIR.rgb(), shownRgb(200, 100), "the canvas shows the hair colour where painted");
        assertEquals(0x000000, shownRgb(200, 130), "and background elsewhere");

        // Keyboard: G = fill tool, 1 = skin; click inside the empty area.
        run(() -> editor.canvas().setFocus());
        move(at(400, 400));
        key(0, 'g');
        key(0, '1');
        assertEquals(Tool.FILL, sync(() -> editor.tools().tool()));
        assertEquals(SKIN, (int) sync(() -> editor.tools().cls()));
        click(400, 400);
        assertEquals(SKIN, (int) sync(() -> doc.classAt(400, 400)));
        assertEquals(SKIN, (int) sync(() -> doc.classAt(0, 511)));
        assertEquals(HAIR, (int) sync(() -> doc.classAt(200, 100)), "fill stops at the stroke");
        pointerAway();
        assertEquals(FaceClass.SKIN.rgb(), shownRgb(400, 400));

        // Ctrl+Z undoes the fill, Ctrl+Y and Ctrl+Shift+Z redo.
        move(at(450, 450));
        key(SWT.CTRL, 'z');
        assertEquals(0, (int) sync(() -> doc.classAt(400, 400)));
        pointerAway();
        assertEquals(0x000000, shownRgb(400, 400), "the canvas follows undo");
        move(at(450, 450));
        key(SWT.CTRL, 'y');
        assertEquals(SKIN, (int) sync(() -> doc.classAt(400, 400)));
        key(SWT.CTRL, 'z');
        key(SWT.CTRL, 'z');
        assertEquals(0, (int) sync(() -> doc.classAt(200, 100)), "both edits undone");
        assertFalse(sync(doc::isDirty), "back at the opened state");
        keyEvent(SWT.KeyDown, SWT.CTRL, (char) 0);
        keyEvent(SWT.KeyDown, SWT.SHIFT, (char) 0);
        keyEvent(SWT.KeyDown, 'z', 'Z');
        keyEvent(SWT.KeyUp, 'z', 'Z');
        keyEvent(SWT.KeyUp, SWT.SHIFT, (char) 0);
        keyEvent(SWT.KeyUp, SWT.CTRL, (char) 0);
        settle();
        assertEquals(HAIR, (int) sync(() -> doc.classAt(200, 100)), "Ctrl+Shift+Z redoes");

        // Rectangle (R) and ellipse (O) by dragging; ] grows the brush.
        key(0, 'r');
        key(0, '4');
        drag(20, 300, 60, 340);
        assertEquals(FaceClass.L_EYE.index(), (int) sync(() -> doc.classAt(40, 320)));
        assertEquals(FaceClass.L_EYE.index(), (int) sync(() -> doc.classAt(20, 300)));
        assertEquals(0, (int) sync(() -> doc.classAt(61, 341)));
        key(0, 'o');
        drag(100, 300, 200, 340);
        assertEquals(FaceClass.L_EYE.index(), (int) sync(() -> doc.classAt(150, 320)));
        assertEquals(0, (int) sync(() -> doc.classAt(101, 301)), "ellipse corners stay empty");
        int size = sync(() -> editor.tools().brush().size());
        key(0, ']');
        assertEquals(size + 1, (int) sync(() -> editor.tools().brush().size()));
        key(0, '[');
        key(0, '[');
        assertEquals(size - 1, (int) sync(() -> editor.tools().brush().size()));

        // Eraser (E) removes hair; right click picks the class under the cursor.
        key(0, 'e');
        drag(150, 100, 250, 100);
        assertEquals(0, (int) sync(() -> doc.classAt(200, 100)));
        move(at(300, 150));
        settle();
        button(SWT.MouseDown, 3);
        button(SWT.MouseUp, 3);
        settle();
        assertEquals(HAIR, (int) sync(() -> editor.tools().cls()), "right click picked hair");
        screenshot("editor-painted.png");
    }

    @Test
    void saveReopenConfirmOnCloseAndAutosaveRecovery() throws Exception {
        MaskDocument doc = editor.document();
        run(() -> editor.newStarter());
        Mask face = sync(doc::snapshot);
        assertEquals(starter(1), face);
        Path out = tmp.resolve("out").resolve("face.png");
        prompter.answers.add(out);
        assertTrue(sync(editor::save));
        assertTrue(Files.isRegularFile(out));
        assertTrue(Files.isRegularFile(tmp.resolve("out").resolve("face_color.png")));
        assertEquals(face, MaskFiles.readIndex(out));
        assertEquals(face, MaskFiles.read(tmp.resolve("out").resolve("face_color.png")).mask(), "colour PNG maps back");
        assertFalse(sync(doc::isDirty));
        assertTrue(sync(() -> window.shell().getText()).startsWith("face.png"));

        run(() -> doc.fillRect(0, 0, 9, 9, HAIR, MaskDocument.ANY));
        assertTrue(sync(() -> window.shell().getText()).startsWith("*face.png"));
        // Autosave writes the unsaved state; a clean save removes it.
        run(editor::autosaveNow);
        Path auto = tmp.resolve("autosave").resolve("autosave-" + ProcessHandle.current().pid() + ".png");
        assertTrue(Files.isRegularFile(auto));
        assertEquals(sync(doc::snapshot), MaskFiles.readIndex(auto));

        // Close with unsaved changes: Cancel keeps the window, No closes it.
        prompter.answers.add(Prompter.Answer.CANCEL);
        run(() -> window.shell().close());
        assertFalse(sync(() -> window.shell().isDisposed()));
        assertTrue(prompter.asked.getLast().contains("Save the changes to face.png"));
        prompter.answers.add(Prompter.Answer.NO);
        run(() -> window.shell().close());
        assertTrue(sync(() -> window.shell().isDisposed()));
        assertFalse(Files.exists(auto), "a clean close leaves no autosave");

        // Reopen the saved file: exactly what was saved.
        window = openWindow(new Autosave(tmp.resolve("autosave")), out);
        editor = window.editor();
        assertEquals(face, sync(() -> editor.document().snapshot()));
        assertEquals(out, sync(() -> editor.document().file()));

        // A crashed editor (a process id that is not running) left an autosave: offered back.
        Mask lost = starter(7);
        new Autosave(tmp.resolve("autosave"), Long.MAX_VALUE - 1).write(lost, out);
        run(() -> window.shell().dispose());
        prompter.answers.add(Prompter.Answer.YES);
        window = openWindow(new Autosave(tmp.resolve("autosave")), null);
        editor = window.editor();
        assertTrue(prompter.asked.getLast().startsWith("Recover unsaved work"), prompter.asked.toString());
        assertEquals(lost, sync(() -> editor.document().snapshot()));
        assertTrue(sync(() -> editor.document().isDirty()), "recovered work is unsaved");
        assertEquals(out, sync(() -> editor.document().file()), "recovered onto the file it belonged to");
        run(() -> editor.document().undo());
        assertEquals(face, sync(() -> editor.document().snapshot()), "undo goes back to the file on disk");
        assertTrue(new Autosave(tmp.resolve("autosave"), 1).orphans().stream().noneMatch(f -> f.pid() == Long.MAX_VALUE - 1));
    }

    @Test
    void opensRealCelebAMaskHqFilesWithTheirPhoto() throws Exception {
        Path mini = mini();
        assertTrue(sync(() -> editor.openFile(mini.resolve("labels").resolve("0.png"))));
        Mask label = MaskFiles.readIndex(mini.resolve("labels").resolve("0.png"));
        assertEquals(label, sync(() -> editor.document().snapshot()));
        assertTrue(sync(() -> editor.canvas().photo() != null), "CelebA-HQ-img/0.jpg became the reference");
        Path part = Files.list(mini.resolve("CelebAMask-HQ-mask-anno").resolve("0")).filter(p -> p.toString().endsWith("_skin.png"))
                .findFirst().orElseThrow();
        assertTrue(sync(() -> editor.openFile(part)));
        int id = Integer.parseInt(part.getFileName().toString().substring(0, 5));
        assertEquals(MaskFiles.readParts(mini.resolve("CelebAMask-HQ-mask-anno"), id), sync(() -> editor.document().snapshot()));
        assertEquals(null, sync(() -> editor.document().file()), "an entry of part files is saved under a new name");
        // A colour mask (CelebAMask-HQ palette) is imported by nearest colour; Save then asks for a new name.
        Path colour = tmp.resolve("label0_color.png");
        MaskFiles.writeColour(label, colour);
        assertTrue(sync(() -> editor.openFile(colour)));
        assertEquals(label, sync(() -> editor.document().snapshot()));
        assertEquals(null, sync(() -> editor.document().file()));
        assertTrue(sync(editor::statusText).startsWith("Imported colour mask"), sync(editor::statusText));
        Path bad = tmp.resolve("bad.png");
        Files.writeString(bad, "not a png");
        assertFalse(sync(() -> editor.openFile(bad)));
        assertTrue(prompter.asked.getLast().startsWith("ERROR Open mask: ") && prompter.asked.getLast().contains("bad.png"),
                prompter.asked.getLast());
    }

    @Test
    void generateRunsInTheBackgroundWithProgressCancelVaryAndLive() throws Exception {
        var panel = editor.generatePanel();
        // "Model defaults" (the initial choice) shows what the generator says its model runs with
        assertTrue(sync(panel::usesModelDefaults));
        assertEquals(generator.defaults(null).orElseThrow(), sync(panel::shownSampling));
        // A starter face (synthetic, free to publish: docs/editor.png comes from this screenshot).
        run(() -> {
            editor.newStarter();
            panel.setSamples(4);
            panel.setSteps(4);
            panel.generate();
        });
        waitFor("4 samples of the starter face", 10_000, () -> panel.samples().size() == 4 && !panel.isBusy());
        screenshot("editor-starter.png");
        // "Model defaults" (the initial choice) leaves sampler, steps and guidance to the model
        run(() -> {
            panel.useModelDefaults(true);
            panel.generate();
        });
        waitFor("samples at the model's defaults", 10_000, () -> !panel.isBusy() && generator.lastRequest.steps() == 0);
        assertEquals(null, generator.lastRequest.sampler());
        assertTrue(Double.isNaN(generator.lastRequest.cfgScale()));
        assertEquals(TestGenerator.DEFAULTS, sync(panel::shownSampling), "checked again: the model's values are back");

        Path mini = mini();
        run(() -> {
            editor.openFile(mini.resolve("labels").resolve("0.png"));
            editor.setOpacity(45);
        });
        assertArrayEquals(new String[] {"euler", "heun"}, sync(panel::samplerNames));
        run(() -> {
            panel.setSamples(3);
            panel.setSteps(10);
            panel.setSeed(42);
            panel.selectSampler("heun");
            panel.generate();
        });
        waitFor("3 samples", 10_000, () -> panel.samples().size() == 3 && !panel.isBusy());
        List<GeneratedImage> samples = sync(panel::samples);
        Mask mask = sync(() -> editor.document().snapshot());
        for (int i = 0; i < 3; i++) {
            GeneratedImage want = TestGenerator.expected(mask, 42 + i);
            assertEquals(42 + i, samples.get(i).seed());
            assertArrayEquals(want.rgb(), samples.get(i).rgb(), "sample " + i + " is the generator's output");
        }
        assertTrue(generator.threads.stream().noneMatch(t -> t.equals("swt-ui")), "never on the UI thread: " + generator.threads);
        assertTrue(sync(panel::statusText).contains("3 sample(s)"));
        screenshot("editor-generate.png");

        // Double-click a sample to save it.
        Path saved = tmp.resolve("sample.png");
        prompter.answers.add(saved);
        Point cell = sync(() -> {
            var canvases = new java.util.ArrayList<org.eclipse.swt.widgets.Canvas>();
            collect(panel, canvases);
            var c = canvases.get(1);
            return c.toDisplay(c.getSize().x / 2, c.getSize().y / 2);
        });
        move(cell);
        settle();
        for (int i = 0; i < 2; i++) {
            button(SWT.MouseDown, 1);
            button(SWT.MouseUp, 1);
        }
        settle();
        waitFor("the sample file", 5_000, () -> Files.isRegularFile(saved));
        var img = dev.sisma.data.image.ImageFiles.read(saved);
        assertEquals(samples.get(1).rgb()[5] & 0xFFFFFF, img.getRGB(5, 0) & 0xFFFFFF);

        // Cancel a slow job.
        TestGenerator slow = new TestGenerator(40);
        run(() -> generators.set(slow));
        run(() -> {
            panel.setSteps(200);
            panel.generate();
        });
        waitFor("the slow job to start", 5_000, () -> slow.calls.get() == 1 && panel.isBusy());
        run(panel::cancel);
        waitFor("cancel", 5_000, () -> !panel.isBusy() && panel.statusText().equals("Cancelled."));

        // Vary picks a new seed and generates.
        run(() -> generators.set(generator));
        long before = sync(panel::seed);
        run(() -> {
            panel.setSteps(3);
            panel.vary();
        });
        waitFor("varied samples", 10_000, () -> !panel.isBusy() && panel.samples().get(0).seed() == panel.seed());
        assertNotEquals(before, (long) sync(panel::seed));

        // The generator goes away: Generate is off with the reason; it comes back with the service.
        run(() -> generators.unset(generator));
        settle();
        assertFalse(sync(panel::canGenerate));
        assertTrue(sync(panel::statusText).contains("no generator service"), sync(panel::statusText));
        run(() -> generators.set(generator));
        settle();
        assertTrue(sync(panel::canGenerate));

        // Live: every edit restarts generation with the new mask.
        int calls = generator.calls.get();
        run(() -> panel.setLive(true));
        run(() -> editor.tools().setCls(HAIR));
        drag(10, 10, 60, 10);
        waitFor("a live job for the new mask", 10_000,
                () -> !panel.isBusy() && generator.calls.get() > calls && generator.lastMask.classAt(30, 10) == HAIR);
        run(() -> panel.setLive(false));
    }

    private static void collect(org.eclipse.swt.widgets.Composite c, List<org.eclipse.swt.widgets.Canvas> out) {
        for (var child : c.getChildren()) {
            if (child instanceof org.eclipse.swt.widgets.Canvas cv && !(child instanceof org.eclipse.swt.widgets.Composite k && k.getChildren().length > 0)) {
                out.add(cv);
            } else if (child instanceof org.eclipse.swt.widgets.Composite k) {
                collect(k, out);
            }
        }
    }
}
