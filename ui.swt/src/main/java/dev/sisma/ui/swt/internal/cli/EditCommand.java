package dev.sisma.ui.swt.internal.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.swt.widgets.Display;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.AttributeDefinition;
import org.osgi.service.metatype.annotations.Designate;
import org.osgi.service.metatype.annotations.ObjectClassDefinition;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.Generator;
import dev.sisma.data.synth.SyntheticFaces;
import dev.sisma.ui.swt.internal.editor.Autosave;
import dev.sisma.ui.swt.internal.editor.EditorWindow;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/**
 * {@code sisma edit [MASK]}: opens the mask editor in its own window. The SWT display runs on a
 * thread of its own inside the container; the command returns when the window is closed.
 * The generator service is bound dynamically: Generate follows it as it comes and goes.
 */
@Component(service = Command.class, configurationPid = EditCommand.PID)
@Designate(ocd = EditCommand.Config.class)
public final class EditCommand implements Command {
    public static final String PID = "dev.sisma.ui.swt.edit";

    @ObjectClassDefinition(name = "sisma mask editor")
    public @interface Config {
        @AttributeDefinition(description = "Folder for autosaves of unsaved work; empty: $XDG_CACHE_HOME/sisma or ~/.cache/sisma")
        String autosave_dir() default "";
    }

    private final GeneratorSource generators = new GeneratorSource();
    private final String autosaveDir;
    /** The window open now (SWT on GTK allows one display per process), or null. */
    private volatile EditorWindow open;

    @Activate
    public EditCommand(Config config) {
        this.autosaveDir = config.autosave_dir();
    }

    @Reference(cardinality = ReferenceCardinality.OPTIONAL, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void bindGenerator(Generator g) {
        generators.set(g);
    }

    void unbindGenerator(Generator g) {
        generators.unset(g);
    }

    GeneratorSource generators() {
        return generators;
    }

    @Override
    public String name() {
        return "edit";
    }

    @Override
    public String summary() {
        return "open the mask editor: paint a mask, generate faces from it";
    }

    @Override
    public String usage() {
        return """
                usage: sisma edit [MASK] [--photo IMAGE] [--autosave-dir DIR] [--screenshot PNG]
                  Opens the SWT mask editor (needs a display). MASK: a class-index or colour PNG, or any
                  part file <id>_<part>.png of a CelebAMask-HQ-mask-anno entry. --photo: a reference photo
                  under the mask. Unsaved work is autosaved to DIR (default ~/.cache/sisma, or Config Admin
                  PID dev.sisma.ui.swt.edit, property autosave.dir) and offered back after a crash.
                  --screenshot: open, write a PNG of the window, and close (for docs and smoke tests).
                  Keys: Help > Keys and mouse in the editor.""";
    }

    @Override
    public int run(List<String> argv, CommandContext ctx) throws Exception {
        Args a = Args.parse(argv, Set.of("--photo", "--autosave-dir", "--screenshot"), Set.of());
        List<String> pos = a.positional();
        if (pos.size() > 1) {
            throw new dev.sisma.api.cli.UsageException("at most one MASK, got " + pos.size() + ": " + pos);
        }
        Path mask = pos.isEmpty() ? null : ctx.resolve(pos.get(0));
        if (mask != null && !Files.isRegularFile(mask)) {
            throw new InputException(mask + ": no such mask file");
        }
        Path photo = a.has("--photo") ? ctx.resolve(a.get("--photo", null)) : null;
        if (photo != null && !Files.isRegularFile(photo)) {
            throw new InputException(photo + ": no such photo file");
        }
        String dir = a.get("--autosave-dir", autosaveDir);
        Autosave autosave = new Autosave(dir == null || dir.isBlank() ? Autosave.defaultDir() : ctx.resolve(dir));
        Path screenshot = a.has("--screenshot") ? ctx.resolve(a.get("--screenshot", null)) : null;
        if (open != null) {
            throw new IllegalStateException("the editor is already open in this container; close that window first");
        }
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread ui = new Thread(() -> {
            try {
                runWindow(mask, photo, autosave, screenshot);
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "sisma-swt");
        ui.start();
        ui.join();
        if (failure.get() != null) {
            Throwable t = failure.get();
            throw new IllegalStateException("the editor failed: " + (t.getMessage() == null ? t : t.getMessage()), t);
        }
        return 0;
    }

    private void runWindow(Path mask, Path photo, Autosave autosave, Path screenshot) {
        Display display;
        try {
            display = new Display();
        } catch (org.eclipse.swt.SWTError e) {
            String d = System.getenv("DISPLAY");
            throw new IllegalStateException("cannot open the editor window: no usable display (DISPLAY is "
                    + (d == null ? "unset" : "'" + d + "'") + "; on a headless machine run it under xvfb-run): "
                    + e.getMessage(), e);
        }
        try {
            SyntheticFaces faces = new SyntheticFaces(20_240_611L);
            EditorWindow w = new EditorWindow(display, generators, autosave,
                    i -> faces.mask(i, dev.sisma.ui.swt.internal.editor.MaskEditor.NEW_SIZE));
            open = w;
            w.open(mask);
            if (photo != null) {
                w.editor().loadReference(photo);
            }
            if (screenshot != null) {
                display.timerExec(1500, () -> {
                    capture(w.shell(), screenshot);
                    w.editor().closed();
                    w.shell().dispose();
                });
            }
            while (!w.shell().isDisposed()) {
                if (!display.readAndDispatch()) {
                    display.sleep();
                }
            }
        } finally {
            open = null;
            display.dispose();
        }
    }

    /**
     * The bundle is stopping with the window open: keep unsaved work in the autosave (offered back
     * at the next start) and close the window so the command returns.
     */
    @Deactivate
    void deactivate() {
        EditorWindow w = open;
        if (w == null) {
            return;
        }
        Display d = w.shell().getDisplay();
        if (!d.isDisposed()) {
            d.syncExec(() -> {
                if (!w.shell().isDisposed()) {
                    w.editor().autosaveNow();
                    w.shell().dispose();
                }
            });
        }
    }

    /** Writes what the window shows as a PNG (atomically, like all our files). */
    static void capture(org.eclipse.swt.widgets.Shell shell, Path file) {
        var d = shell.getDisplay();
        var b = shell.getBounds();
        var img = new org.eclipse.swt.graphics.Image(d, b.width, b.height);
        var gc = new org.eclipse.swt.graphics.GC(d);
        try {
            gc.copyArea(img, b.x, b.y);
            var loader = new org.eclipse.swt.graphics.ImageLoader();
            loader.data = new org.eclipse.swt.graphics.ImageData[] {img.getImageData()};
            dev.sisma.data.image.ImageFiles.writeAtomically(file, out -> loader.save(out, org.eclipse.swt.SWT.IMAGE_PNG));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot write the screenshot " + file, e);
        } finally {
            gc.dispose();
            img.dispose();
        }
    }
}
