package dev.sisma.ui.swt.internal.editor;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.function.LongFunction;

import org.eclipse.swt.SWT;
import org.eclipse.swt.custom.SashForm;
import org.eclipse.swt.layout.GridData;
import org.eclipse.swt.layout.GridLayout;
import org.eclipse.swt.layout.RowLayout;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Label;
import org.eclipse.swt.widgets.Listener;
import org.eclipse.swt.widgets.Scale;
import org.eclipse.swt.widgets.Spinner;
import org.eclipse.swt.widgets.Text;

import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.ImportedMask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.ui.swt.internal.doc.Brush;
import dev.sisma.ui.swt.internal.doc.DocumentListener;
import dev.sisma.ui.swt.internal.doc.MaskDocument;
import dev.sisma.ui.swt.internal.generate.GeneratePanel;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * The whole editor as one composite (hosted by the standalone window and by the Eclipse view):
 * tool bar, class palette, canvas, generate panel and status line, plus the file actions.
 *
 * <p>Keys (when the focus is not in a text field): B brush, E eraser, G fill, R rectangle,
 * O ellipse, I pick; 0-9 classes 0-9, Alt+0..8 classes 10-18, comma/period previous/next class;
 * [ and ] brush size (Shift: by 10); S round/square brush; F fit, + and - zoom, 1:1 with Ctrl+0;
 * Ctrl+Z undo, Ctrl+Shift+Z or Ctrl+Y redo; H (held) highlights the current class.
 */
public final class MaskEditor extends Composite {
    public static final int NEW_SIZE = 512;
    private static final String[] MASK_EXT = {"*.png", "*.*"};
    private static final String[] MASK_NAMES = {"Mask PNG (class index or colour)", "All files"};

    private final MaskDocument doc = new MaskDocument(NEW_SIZE, NEW_SIZE);
    private final ToolState tools = new ToolState();
    private final MaskCanvas canvas;
    private final PalettePanel palette;
    private final GeneratePanel generatePanel;
    private final Label status;
    private final Button[] toolButtons = new Button[Tool.values().length];
    private final Button squareBrush;
    private final Spinner brushSize;
    private final Scale opacity;
    private Prompter prompter;
    private Autosave autosave;
    private boolean alsoWriteColour = true;
    private LongFunction<Mask> starterFaces;
    private long starterSeed = 1;
    private String hoverText = "";
    private Runnable titleListener = () -> {
    };

    public MaskEditor(Composite parent, GeneratorSource generators) {
        super(parent, SWT.NONE);
        prompter = new SwtPrompter(getShell());
        GridLayout gl = new GridLayout(1, false);
        gl.marginWidth = 0;
        gl.marginHeight = 0;
        gl.verticalSpacing = 2;
        setLayout(gl);

        Composite bar = new Composite(this, SWT.NONE);
        RowLayout rl = new RowLayout(SWT.HORIZONTAL);
        rl.center = true;
        rl.spacing = 3;
        bar.setLayout(rl);
        bar.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));
        push(bar, "New", "New blank mask (Ctrl+N)", this::newBlank);
        push(bar, "Starter", "New mask from a starter face layout; again for another one", this::newStarter);
        push(bar, "Open", "Open an index or colour mask, or any part file of a CelebAMask-HQ entry (Ctrl+O)", this::open);
        push(bar, "Save", "Save as class-index PNG, plus <name>_color.png (Ctrl+S)", this::save);
        push(bar, "Photo", "Open a reference photo to paint over", this::openReference);
        sep(bar);
        push(bar, "Undo", "Undo (Ctrl+Z)", doc::undo);
        push(bar, "Redo", "Redo (Ctrl+Shift+Z, Ctrl+Y)", doc::redo);
        sep(bar);
        for (Tool t : Tool.values()) {
            Button b = new Button(bar, SWT.RADIO);
            b.setText(t.label);
            b.setToolTipText(t.label + " (" + Character.toUpperCase(t.key) + "): " + t.help);
            b.addListener(SWT.Selection, e -> {
                if (b.getSelection()) {
                    tools.setTool(t);
                }
            });
            toolButtons[t.ordinal()] = b;
        }
        sep(bar);
        squareBrush = new Button(bar, SWT.CHECK);
        squareBrush.setText("Square");
        squareBrush.setToolTipText("Square brush instead of round (S)");
        squareBrush.addListener(SWT.Selection,
                e -> tools.setBrush(tools.brush().withShape(squareBrush.getSelection() ? Brush.Shape.SQUARE : Brush.Shape.ROUND)));
        new Label(bar, SWT.NONE).setText("Size");
        brushSize = new Spinner(bar, SWT.BORDER);
        brushSize.setValues(tools.brush().size(), Brush.MIN_SIZE, Brush.MAX_SIZE, 0, 1, 10);
        brushSize.setToolTipText("Brush size in mask pixels ([ and ])");
        brushSize.addListener(SWT.Selection, e -> tools.setBrush(tools.brush().withSize(brushSize.getSelection())));
        new Label(bar, SWT.NONE).setText("Mask opacity");
        opacity = new Scale(bar, SWT.HORIZONTAL);
        opacity.setMinimum(0);
        opacity.setMaximum(100);
        opacity.setSelection(60);
        opacity.setToolTipText("Opacity of the mask over the reference photo");
        opacity.addListener(SWT.Selection, e -> canvas().setOpacity(opacity.getSelection() / 100.0));
        push(bar, "Fit", "Fit the mask to the window (F)", () -> canvas().fit());

        SashForm sash = new SashForm(this, SWT.HORIZONTAL);
        sash.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        Composite left = new Composite(sash, SWT.NONE);
        GridLayout ll = new GridLayout(2, false);
        ll.marginWidth = 0;
        ll.marginHeight = 0;
        left.setLayout(ll);
        palette = new PalettePanel(left, tools, doc);
        palette.setLayoutData(new GridData(SWT.FILL, SWT.TOP, false, true));
        canvas = new MaskCanvas(left, doc, tools);
        canvas.setLayoutData(new GridData(SWT.FILL, SWT.FILL, true, true));
        canvas.setOpacity(0.6);
        if (generators != null) {
            generatePanel = new GeneratePanel(sash, generators, doc, () -> prompter);
            sash.setWeights(64, 36);
        } else {
            generatePanel = null;
        }
        status = new Label(this, SWT.NONE);
        status.setLayoutData(new GridData(SWT.FILL, SWT.CENTER, true, false));

        canvas.onHover(c -> {
            hoverText = c < 0 ? "" : "under cursor: " + FaceClass.of(c).partName();
            updateStatus();
        });
        tools.addListener(this::syncToolBar);
        doc.addListener(new DocumentListener() {
            @Override
            public void stateChanged(MaskDocument d) {
                updateStatus();
                titleListener.run();
            }
        });
        Listener keys = this::key;
        getDisplay().addFilter(SWT.KeyDown, keys);
        getDisplay().addFilter(SWT.KeyUp, keys);
        addListener(SWT.Dispose, e -> {
            getDisplay().removeFilter(SWT.KeyDown, keys);
            getDisplay().removeFilter(SWT.KeyUp, keys);
        });
        syncToolBar();
        updateStatus();
    }

    private static void push(Composite bar, String text, String tip, Runnable action) {
        Button b = new Button(bar, SWT.PUSH);
        b.setText(text);
        b.setToolTipText(tip);
        b.addListener(SWT.Selection, e -> action.run());
    }

    private static void sep(Composite bar) {
        new Label(bar, SWT.SEPARATOR | SWT.VERTICAL).setLayoutData(new org.eclipse.swt.layout.RowData(SWT.DEFAULT, 20));
    }

    // ------------------------------------------------------------------ accessors

    public MaskDocument document() {
        return doc;
    }

    public ToolState tools() {
        return tools;
    }

    public MaskCanvas canvas() {
        return canvas;
    }

    public GeneratePanel generatePanel() {
        return generatePanel;
    }

    public String statusText() {
        return status.getText();
    }

    public void setPrompter(Prompter p) {
        prompter = p;
    }

    public void setAutosave(Autosave a) {
        autosave = a;
    }

    public void setAlsoWriteColour(boolean on) {
        alsoWriteColour = on;
    }

    /** Where starter faces come from: a layout per seed (the synthetic face generator). */
    public void setStarterFaces(LongFunction<Mask> faces) {
        starterFaces = faces;
    }

    /** Called when the file name or the dirty flag may have changed (the window title follows). */
    public void onTitleChange(Runnable r) {
        titleListener = r;
    }

    public String title() {
        Path f = doc.file();
        return (doc.isDirty() ? "*" : "") + (f == null ? "untitled" : f.getFileName().toString()) + " - sisma mask editor";
    }

    private void syncToolBar() {
        for (Tool t : Tool.values()) {
            toolButtons[t.ordinal()].setSelection(t == tools.tool());
        }
        squareBrush.setSelection(tools.brush().shape() == Brush.Shape.SQUARE);
        if (brushSize.getSelection() != tools.brush().size()) {
            brushSize.setSelection(tools.brush().size());
        }
        updateStatus();
    }

    private void updateStatus() {
        if (status == null || status.isDisposed()) {
            return;
        }
        String only = tools.onlyOver() == MaskDocument.ANY ? "" : ", only over " + FaceClass.of(tools.onlyOver()).partName();
        String undo = doc.undoName() == null ? "" : "  |  undo: " + doc.undoName();
        status.setText(String.format("%s, %s, %s%s  |  %dx%d, zoom %.0f%%%s  |  %s", tools.tool().label,
                FaceClass.of(tools.cls()).partName(), tools.brush(), only, doc.width(), doc.height(),
                canvas.viewport().zoom() * 100, undo, hoverText));
    }

    // ------------------------------------------------------------------ keys

    private boolean ours(Event e) {
        if (!(e.widget instanceof Control c) || c.isDisposed() || e.widget instanceof Text || e.widget instanceof Spinner
                || e.widget instanceof org.eclipse.swt.widgets.Combo) {
            return false;
        }
        for (Control p = c; p != null; p = p.getParent()) {
            if (p == this) {
                return true;
            }
            if (p == getShell()) {
                // The standalone window: keys anywhere in it (outside text fields) drive the editor.
                return getShell().getData(MaskEditor.class.getName()) == this;
            }
        }
        return false;
    }

    private void key(Event e) {
        if (isDisposed() || !ours(e)) {
            return;
        }
        if (e.type == SWT.KeyUp) {
            if (e.character == 'h' || e.character == 'H') {
                canvas.setHighlight(-1);
            }
            return;
        }
        boolean ctrl = (e.stateMask & SWT.MOD1) != 0;
        boolean shift = (e.stateMask & SWT.SHIFT) != 0;
        boolean alt = (e.stateMask & SWT.ALT) != 0;
        int k = Character.toLowerCase((char) e.keyCode);
        boolean handled = true;
        if (ctrl) {
            switch (k) {
                case 'z' -> {
                    if (shift) {
                        doc.redo();
                    } else {
                        doc.undo();
                    }
                }
                case 'y' -> doc.redo();
                case 's' -> {
                    if (shift) {
                        saveAs();
                    } else {
                        save();
                    }
                }
                case 'o' -> open();
                case 'n' -> newBlank();
                case 'g' -> {
                    if (generatePanel != null) {
                        generatePanel.generate();
                    }
                }
                case '0' -> canvas.zoomTo(1);
                default -> handled = false;
            }
        } else if (e.keyCode >= '0' && e.keyCode <= '9' && (alt || !shift)) {
            int c = (e.keyCode - '0') + (alt ? 10 : 0);
            if (c < FaceClass.COUNT) {
                tools.setCls(c);
            }
        } else if (e.keyCode >= SWT.KEYPAD_0 && e.keyCode <= SWT.KEYPAD_9) {
            tools.setCls(e.keyCode - SWT.KEYPAD_0 + (alt ? 10 : 0));
        } else if (e.character == '[' || e.character == '{') {
            tools.setBrush(tools.brush().withSize(tools.brush().size() - (shift ? 10 : 1)));
        } else if (e.character == ']' || e.character == '}') {
            tools.setBrush(tools.brush().withSize(tools.brush().size() + (shift ? 10 : 1)));
        } else if (e.character == ',' || e.character == '<') {
            tools.setCls((tools.cls() + FaceClass.COUNT - 1) % FaceClass.COUNT);
        } else if (e.character == '.' || e.character == '>') {
            tools.setCls((tools.cls() + 1) % FaceClass.COUNT);
        } else if (e.character == '+' || e.character == '=' || e.keyCode == SWT.KEYPAD_ADD) {
            canvas.zoomTo(canvas.viewport().zoom() * 1.25);
        } else if (e.character == '-' || e.keyCode == SWT.KEYPAD_SUBTRACT) {
            canvas.zoomTo(canvas.viewport().zoom() / 1.25);
        } else if (k == 'f') {
            canvas.fit();
        } else if (k == 's') {
            tools.setBrush(tools.brush().withShape(tools.brush().shape() == Brush.Shape.ROUND ? Brush.Shape.SQUARE : Brush.Shape.ROUND));
        } else if (k == 'h') {
            canvas.setHighlight(tools.cls());
        } else if (Tool.forKey((char) k) != null && !alt) {
            tools.setTool(Tool.forKey((char) k));
        } else {
            handled = false;
        }
        if (handled) {
            e.doit = false;
            updateStatus();
        }
    }

    // ------------------------------------------------------------------ files

    /** True when there is nothing unsaved, or the user saved it or chose to discard it. */
    public boolean confirmDiscard() {
        if (!doc.isDirty()) {
            return true;
        }
        String name = doc.file() == null ? "the untitled mask" : doc.file().getFileName().toString();
        return switch (prompter.ask("Unsaved changes", "Save the changes to " + name + "?", true)) {
            case YES -> save();
            case NO -> true;
            case CANCEL -> false;
        };
    }

    public void newBlank() {
        if (confirmDiscard()) {
            doc.load(new Mask(NEW_SIZE, NEW_SIZE, new byte[NEW_SIZE * NEW_SIZE]), null);
            canvas.setPhoto(null);
        }
    }

    /** Replaces the mask by a starter face layout (undoable); each call gives another face. */
    public void newStarter() {
        if (starterFaces == null) {
            prompter.error("Starter face", "No starter face generator is available in this build.");
            return;
        }
        Mask m = starterFaces.apply(starterSeed++);
        doc.setMask(m, "Starter face");
        setStatusNote("Starter face " + (starterSeed - 1) + ": press Starter again for another, Ctrl+Z to go back.");
    }

    private void setStatusNote(String note) {
        status.setText(note);
    }

    public void open() {
        if (!confirmDiscard()) {
            return;
        }
        Path p = prompter.openFile("Open mask", MASK_EXT, MASK_NAMES);
        if (p != null) {
            openFile(p);
        }
    }

    /**
     * Opens a mask file: a class-index PNG, a colour PNG (nearest palette colour), or a part file
     * {@code <id>_<part>.png} of the CelebAMask-HQ per-part layout, which opens the whole entry.
     * A photo found next to the dataset files ({@code CelebA-HQ-img/<id>.jpg}) becomes the reference.
     *
     * @return false (after telling the user) when the file cannot be read
     */
    public boolean openFile(Path p) {
        try {
            Mask mask;
            Path file = p;
            String note;
            Path photo = null;
            Optional<MaskFiles.PartEntry> entry = MaskFiles.partEntry(p);
            if (entry.isPresent()) {
                int id = entry.get().id();
                mask = MaskFiles.readEntry(entry.get());
                file = null;
                note = "Opened CelebAMask-HQ entry " + id + " (merged from its part files); Save writes a new index PNG.";
                Path anno = entry.get().folder().getParent();
                photo = anno == null ? null : firstExisting(anno.resolveSibling("CelebA-HQ-img").resolve(id + ".jpg"));
            } else {
                ImportedMask im = MaskFiles.read(p);
                mask = im.mask();
                if (im.fromColour()) {
                    file = null;
                    note = "Imported colour mask " + p.getFileName() + (im.farPixels() > 0
                            ? " (" + im.farPixels() + " pixels were far from every palette colour)" : "")
                            + "; Save writes a class-index PNG.";
                } else {
                    note = "Opened " + p;
                }
                String stem = p.getFileName().toString().replaceFirst("\\.png$", "");
                if (p.getParent() != null && p.getParent().getFileName() != null
                        && p.getParent().getFileName().toString().equals("labels")) {
                    photo = firstExisting(p.getParent().resolveSibling("CelebA-HQ-img").resolve(stem + ".jpg"));
                }
            }
            doc.load(mask, file);
            canvas.setPhoto(null);
            if (photo != null) {
                loadReference(photo);
                note += " Reference photo: " + photo.getFileName() + ".";
            }
            canvas.fit();
            setStatusNote(note);
            return true;
        } catch (RuntimeException e) {
            prompter.error("Open mask", e.getMessage() == null ? e.toString() : e.getMessage());
            return false;
        }
    }

    private static Path firstExisting(Path p) {
        return Files.isRegularFile(p) ? p : null;
    }

    public void openReference() {
        Path p = prompter.openFile("Open reference photo", new String[] {"*.jpg;*.jpeg;*.png", "*.*"},
                new String[] {"Images", "All files"});
        if (p != null) {
            try {
                loadReference(p);
            } catch (RuntimeException e) {
                prompter.error("Open photo", e.getMessage());
            }
        }
    }

    /** Shows a photo under the mask, stretched to the mask's size. */
    public void loadReference(Path p) {
        BufferedImage img = ImageFiles.read(p);
        int w = img.getWidth(), h = img.getHeight();
        canvas.setPhoto(new MaskRenderer.Photo(w, h, img.getRGB(0, 0, w, h, null, 0, w)));
        if (opacity.getSelection() > 80) {
            opacity.setSelection(60);
            canvas.setOpacity(0.6);
        }
    }

    public void setOpacity(int percent) {
        opacity.setSelection(percent);
        canvas.setOpacity(percent / 100.0);
    }

    /** Saves to the current file, or asks for one; false when cancelled or failed. */
    public boolean save() {
        return doc.file() == null ? saveAs() : saveTo(doc.file());
    }

    public boolean saveAs() {
        String name = doc.file() == null ? "mask.png" : doc.file().getFileName().toString();
        Path p = prompter.saveFile("Save mask as class-index PNG", name, new String[] {"*.png"},
                new String[] {"Class-index PNG"});
        return p != null && saveTo(p);
    }

    /** Writes the class-index PNG (and, when enabled, {@code <stem>_color.png} next to it). */
    public boolean saveTo(Path p) {
        if (!p.getFileName().toString().toLowerCase(java.util.Locale.ROOT).endsWith(".png")) {
            p = p.resolveSibling(p.getFileName() + ".png");
        }
        try {
            Mask m = doc.snapshot();
            MaskFiles.writeIndex(m, p);
            if (alsoWriteColour) {
                MaskFiles.writeColour(m, colourFile(p));
            }
            doc.markSaved(p);
            if (autosave != null) {
                autosave.clear();
            }
            setStatusNote("Saved " + p + (alsoWriteColour ? " and " + colourFile(p).getFileName() : ""));
            return true;
        } catch (IOException | RuntimeException e) {
            prompter.error("Save mask", "Could not save " + p + ": " + e.getMessage());
            return false;
        }
    }

    public static Path colourFile(Path indexPng) {
        String n = indexPng.getFileName().toString();
        return indexPng.resolveSibling(n.substring(0, n.length() - 4) + "_color.png");
    }

    // ------------------------------------------------------------------ autosave

    /** Writes the autosave when there are unsaved changes, deletes it when there are none. */
    public void autosaveNow() {
        if (autosave == null) {
            return;
        }
        try {
            if (doc.isDirty()) {
                autosave.write(doc.snapshot(), doc.file());
            } else {
                autosave.clear();
            }
        } catch (IOException | RuntimeException e) {
            setStatusNote("Autosave failed: " + e.getMessage());
        }
    }

    /** Autosaves every {@code millis} while the editor lives (only when something changed). */
    public void startAutosave(int millis) {
        long[] last = {doc.revision()};
        Runnable[] tick = new Runnable[1];
        tick[0] = () -> {
            if (isDisposed()) {
                return;
            }
            if (doc.revision() != last[0]) {
                last[0] = doc.revision();
                autosaveNow();
            }
            getDisplay().timerExec(millis, tick[0]);
        };
        getDisplay().timerExec(millis, tick[0]);
    }

    /**
     * Offers back autosaves that a crashed editor left. Restoring loads the original file (when it
     * still exists) and applies the autosave on top as an undoable edit, so the result is unsaved.
     *
     * @return true when one was restored
     */
    public boolean offerRecovery() {
        if (autosave == null) {
            return false;
        }
        for (Autosave.Found f : autosave.orphans()) {
            String what = f.original() == null ? "an untitled mask" : f.original().toString();
            Prompter.Answer a = prompter.ask("Recover unsaved work",
                    "The editor did not close cleanly. An autosave of " + what + " from " + f.time()
                            + " was found.\nRestore it?", false);
            if (a == Prompter.Answer.YES) {
                try {
                    Mask m = Autosave.read(f);
                    if (f.original() != null && Files.isRegularFile(f.original()) && openFile(f.original())) {
                        doc.setMask(m, "Recovered autosave");
                    } else {
                        doc.load(new Mask(m.width(), m.height(), new byte[m.width() * m.height()]), null);
                        doc.setMask(m, "Recovered autosave");
                    }
                    autosave.discard(f);
                    autosaveNow();
                    setStatusNote("Recovered the autosave from " + f.time() + "; save it to keep it.");
                    return true;
                } catch (RuntimeException e) {
                    prompter.error("Recover", "The autosave " + f.mask() + " cannot be read: " + e.getMessage());
                }
            }
            autosave.discard(f);
        }
        return false;
    }

    /** A clean close: nothing is left to recover. */
    public void closed() {
        if (autosave != null) {
            autosave.clear();
        }
    }
}
