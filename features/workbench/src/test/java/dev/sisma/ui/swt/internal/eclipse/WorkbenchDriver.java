package dev.sisma.ui.swt.internal.eclipse;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicReference;

import org.eclipse.core.commands.operations.IOperationHistory;
import org.eclipse.core.runtime.jobs.Job;
import org.eclipse.jface.dialogs.IDialogConstants;
import org.eclipse.jface.preference.PreferenceDialog;
import org.eclipse.swt.SWT;
import org.eclipse.swt.graphics.GC;
import org.eclipse.swt.graphics.Image;
import org.eclipse.swt.graphics.ImageData;
import org.eclipse.swt.graphics.ImageLoader;
import org.eclipse.swt.graphics.Point;
import org.eclipse.swt.graphics.Rectangle;
import org.eclipse.swt.widgets.Button;
import org.eclipse.swt.widgets.Composite;
import org.eclipse.swt.widgets.Control;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Event;
import org.eclipse.swt.widgets.Shell;
import org.eclipse.ui.IWorkbench;
import org.eclipse.ui.IWorkbenchPage;
import org.eclipse.ui.IWorkbenchWindow;
import org.eclipse.ui.PlatformUI;
import org.eclipse.ui.dialogs.PreferencesUtil;
import org.eclipse.ui.handlers.IHandlerService;
import org.osgi.framework.BundleContext;
import org.osgi.framework.FrameworkUtil;
import org.osgi.framework.ServiceReference;
import org.osgi.service.cm.ConfigurationAdmin;

import dev.sisma.engine.Backends;

import dev.sisma.ui.swt.internal.editor.MaskEditor;
import dev.sisma.ui.swt.internal.editor.Tool;
import dev.sisma.ui.swt.internal.editor.Viewport;

/**
 * Drives the running sisma workbench the way a person would, from inside the framework (installed as
 * a fragment of the editor bundle by WorkbenchUiTest): real mouse and key events through
 * {@link Display#post}, menu commands through the workbench's handler service. Each check that fails
 * throws an AssertionError with what was seen; screenshots go to the output folder.
 */
public final class WorkbenchDriver {
    /** A class no face mask of the examples uses, so its pixels count exactly what a stroke painted. */
    private static final int HAT = 14;

    private final Path out;
    private final List<String> report = new ArrayList<>();
    private Display display;
    private IWorkbenchWindow window;
    private MaskEditorView view;

    private WorkbenchDriver(Path out) {
        this.out = out;
    }

    /** Runs every step; returns one line per check. Closes the workbench at the end. */
    public static String run(Path out, Path mask) throws Exception {
        WorkbenchDriver d = new WorkbenchDriver(out);
        try {
            d.steps(mask);
        } finally {
            d.close();
        }
        return String.join("\n", d.report);
    }

    private void steps(Path mask) throws Exception {
        long deadline = System.currentTimeMillis() + 90_000;
        while (!PlatformUI.isWorkbenchRunning() || activeWindow() == null) {
            check(System.currentTimeMillis() < deadline, "the workbench window did not open within 90 s");
            Thread.sleep(200);
        }
        IWorkbench workbench = PlatformUI.getWorkbench();
        display = workbench.getDisplay();
        window = sync(workbench::getActiveWorkbenchWindow);
        IWorkbenchPage page = sync(window::getActivePage);
        check(SismaPerspective.ID.equals(sync(() -> page.getPerspective().getId())), "the sisma perspective is not open");
        view = sync(() -> (MaskEditorView) page.findView(MaskEditorView.ID));
        check(view != null, "the Mask Editor view is not in the perspective");
        check(sync(() -> page.findView(SismaPerspective.PROGRESS_VIEW)) != null, "the Progress view is not in the perspective");
        waitFor(() -> mask.equals(view.editor().document().file()), 30_000, "the editor did not open " + mask);
        report.add("workbench up: sisma perspective, Mask Editor view with " + mask.getFileName());
        waitFor(() -> view.editor().generatePanel().canGenerate(), 60_000,
                "Generate never became available (no generator service in the framework)");
        sync(() -> {
            Shell s = window.getShell();
            s.setBounds(0, 0, 1360, 900);
            s.forceActive();
            page.activate(view);
            view.editor().canvas().fit();
            return null;
        });
        settle();
        screenshot("workbench-opened.png");

        // Two strokes painted with real mouse events.
        MaskEditor editor = view.editor();
        int w = sync(() -> editor.document().width()), h = sync(() -> editor.document().height());
        sync(() -> {
            editor.tools().setTool(Tool.BRUSH);
            editor.tools().setCls(HAT);
            return null;
        });
        int before = hat();
        check(before == 0, "the example mask already has class " + HAT + " pixels");
        check(!sync(view::isDirty), "the view is dirty before any edit");
        drag(w / 10, h / 12, w * 4 / 10, h / 12);
        int afterOne = hat();
        check(afterOne > 0, "the first stroke painted nothing (class " + HAT + " pixels: " + afterOne + ")");
        drag(w / 10, h / 6, w * 4 / 10, h / 6);
        int afterTwo = hat();
        check(afterTwo > afterOne, "the second stroke painted nothing");
        check(sync(view::isDirty), "the view is not dirty after painting");
        IOperationHistory history = sync(() -> workbench.getOperationSupport().getOperationHistory());
        check(sync(() -> history.getUndoHistory(view.undoContext()).length) == 2,
                "the workbench's operation history does not hold the two strokes");
        report.add("painted two strokes through Display events: " + afterOne + " then " + afterTwo + " pixels; view dirty; 2 operations on the workbench history");
        screenshot("workbench-painted.png");

        // Undo through the workbench: Ctrl+Z (the workbench's key binding), then the Undo command.
        sync(() -> {
            window.getShell().forceActive();
            page.activate(view);
            view.setFocus();
            return null;
        });
        settle();
        key(SWT.MOD1, 'z');
        check(hat() == afterOne, "Ctrl+Z did not undo exactly the second stroke (class pixels " + hat() + ", expected " + afterOne + ")");
        command("org.eclipse.ui.edit.undo");
        check(hat() == 0, "Edit > Undo did not undo the first stroke");
        check(sync(() -> history.canRedo(view.undoContext())), "nothing to redo on the workbench history after undo");
        command("org.eclipse.ui.edit.redo");
        check(hat() == afterOne, "Edit > Redo did not bring the first stroke back");
        report.add("undo: Ctrl+Z and Edit > Undo through the workbench's operation history, then Redo");

        // Save (the workbench's command, Ctrl+S's): the view is clean again and the file holds the stroke.
        long size = Files.size(mask);
        command("org.eclipse.ui.file.save");
        check(!sync(view::isDirty), "the view is still dirty after File > Save");
        check(Files.getLastModifiedTime(mask).toMillis() > 0 && Files.size(mask) > 0, "the saved mask is empty");
        report.add("File > Save wrote " + mask.getFileName() + " (" + size + " -> " + Files.size(mask) + " bytes); view clean");

        // Window > Preferences > sisma: the CPU threads go to Config Admin, and the CPU backend follows.
        int threads = Runtime.getRuntime().availableProcessors() == 1 ? 2 : 1;
        PreferenceDialog dialog = sync(() -> {
            PreferenceDialog d = PreferencesUtil.createPreferenceDialogOn(window.getShell(), SismaPreferencePage.ID,
                    new String[] {SismaPreferencePage.ID}, null);
            d.setBlockOnOpen(false);
            d.open();
            return d;
        });
        settle();
        SismaPreferencePage prefs = sync(() -> dialog.getSelectedPage() instanceof SismaPreferencePage p ? p : null);
        check(prefs != null, "Window > Preferences did not open the sisma page");
        check(sync(() -> prefs.backendCombo().indexOf("cpu")) >= 0, "the backend choice does not offer cpu: "
                + String.join(", ", sync(() -> prefs.backendCombo().getItems())));
        check(sync(() -> prefs.modelCombo().indexOf("demo-32")) >= 0, "the model choice does not offer demo-32");
        sync(() -> {
            prefs.threadsSpinner().setSelection(threads);
            return null;
        });
        settle();
        screenshot(sync(dialog::getShell), "workbench-preferences.png");
        sync(() -> {
            Button ok = button(dialog.getShell(), IDialogConstants.OK_ID);
            check(ok != null, "the preferences dialog has no OK button");
            ok.notifyListeners(SWT.Selection, new Event());
            return null;
        });
        settle();
        check(sync(() -> dialog.getShell() == null || dialog.getShell().isDisposed()), "the preferences dialog did not close on OK");
        BundleContext bc = FrameworkUtil.getBundle(WorkbenchDriver.class).getBundleContext();
        ServiceReference<ConfigurationAdmin> cmRef = bc.getServiceReference(ConfigurationAdmin.class);
        check(cmRef != null, "no Config Admin in the workbench");
        Object configured = bc.getService(cmRef).getConfiguration("dev.sisma.engine.cpu", "?").getProperties().get("threads");
        bc.ungetService(cmRef);
        check(Integer.valueOf(threads).equals(configured), "Config Admin's dev.sisma.engine.cpu threads is " + configured + ", not " + threads);
        String device = null;
        long prefEnd = System.currentTimeMillis() + 30_000;
        while (device == null || !device.startsWith(threads + (threads == 1 ? " thread," : " threads,"))) {
            check(System.currentTimeMillis() < prefEnd, "the CPU backend did not take " + threads + " threads within 30 s: " + device);
            Thread.sleep(100);
            ServiceReference<Backends> ref = bc.getServiceReference(Backends.class);
            if (ref != null) {
                Backends b = bc.getService(ref);
                device = b == null ? null : b.byName("cpu").map(be -> be.device()).orElse(null);
                bc.ungetService(ref);
            }
        }
        report.add("Window > Preferences > sisma: CPU threads " + threads + " -> Config Admin dev.sisma.engine.cpu threads="
                + configured + "; the CPU backend reports " + device);

        // Generate on the demo model through the sisma command; the generation is a workbench job.
        sync(() -> {
            var p = editor.generatePanel();
            p.useModelDefaults(false);
            p.setSamples(2);
            p.setSteps(4);
            p.setSeed(7);
            return null;
        });
        command(GenerateHandler.COMMAND);
        boolean sawJob = false;
        long end = System.currentTimeMillis() + 240_000;
        while (true) {
            sawJob |= Job.getJobManager().find(GenerateJob.FAMILY).length > 0;
            boolean done = sync(() -> !editor.generatePanel().isBusy() && editor.generatePanel().samples().size() == 2);
            if (done) {
                break;
            }
            check(System.currentTimeMillis() < end, "Generate did not finish within 240 s: " + sync(() -> editor.generatePanel().statusText()));
            Thread.sleep(100);
        }
        String status = sync(() -> editor.generatePanel().statusText());
        check(sawJob, "the generation never showed as a workbench job");
        report.add("Generate (Mask > Generate) on the demo model: 2 samples; ran as a workbench job; " + status);
        settle();
        screenshot("workbench-generated.png");
    }

    private void close() {
        if (display == null || display.isDisposed()) {
            return;
        }
        display.syncExec(() -> {
            if (PlatformUI.isWorkbenchRunning()) {
                if (view != null && view.editor() != null && !view.editor().isDisposed()) {
                    view.editor().document().markSaved(view.editor().document().file());
                }
                PlatformUI.getWorkbench().close();
            }
        });
    }

    // ------------------------------------------------------------------ helpers

    private static IWorkbenchWindow activeWindow() {
        AtomicReference<IWorkbenchWindow> w = new AtomicReference<>();
        try {
            Display d = PlatformUI.getWorkbench().getDisplay();
            d.syncExec(() -> w.set(PlatformUI.getWorkbench().getActiveWorkbenchWindow()));
        } catch (RuntimeException e) {
            return null;
        }
        return w.get();
    }

    private int hat() throws Exception {
        return sync(() -> view.editor().document().histogram()[HAT]);
    }

    private void command(String id) throws Exception {
        sync(() -> {
            IHandlerService hs = window.getService(IHandlerService.class);
            hs.executeCommand(id, null);
            return null;
        });
        settle();
    }

    private Point at(int ix, int iy) throws Exception {
        return sync(() -> {
            Viewport vp = view.editor().canvas().viewport();
            return view.editor().canvas().toDisplay((int) Math.floor(vp.screenX(ix + 0.5)), (int) Math.floor(vp.screenY(iy + 0.5)));
        });
    }

    private void drag(int x0, int y0, int x1, int y1) throws Exception {
        Point a = at(x0, y0), b = at(x1, y1);
        move(a);
        settle();
        post(SWT.MouseDown, 1, 0, (char) 0);
        for (int k = 1; k <= 12; k++) {
            move(new Point(a.x + (b.x - a.x) * k / 12, a.y + (b.y - a.y) * k / 12));
        }
        settle();
        post(SWT.MouseUp, 1, 0, (char) 0);
        settle();
    }

    private void move(Point p) throws Exception {
        Event e = new Event();
        e.type = SWT.MouseMove;
        e.x = p.x;
        e.y = p.y;
        check(sync(() -> display.post(e)), "Display.post refused a mouse move");
        Thread.sleep(5);
    }

    private void key(int modifier, char c) throws Exception {
        post(SWT.KeyDown, 0, modifier, (char) 0);
        post(SWT.KeyDown, 0, 0, c);
        post(SWT.KeyUp, 0, 0, c);
        post(SWT.KeyUp, 0, modifier, (char) 0);
        settle();
    }

    private void post(int type, int button, int keyCode, char c) throws Exception {
        Event e = new Event();
        e.type = type;
        e.button = button;
        e.keyCode = keyCode;
        e.character = c;
        check(sync(() -> display.post(e)), "Display.post refused an event");
        Thread.sleep(5);
    }

    /** Lets the UI thread handle what is queued (GTK needs real time to deliver posted events). */
    private void settle() throws Exception {
        for (int i = 0; i < 5; i++) {
            Thread.sleep(60);
            sync(() -> {
                while (display.readAndDispatch()) {
                    // drain
                }
                return null;
            });
        }
    }

    private void waitFor(Callable<Boolean> condition, long millis, String failure) throws Exception {
        long end = System.currentTimeMillis() + millis;
        while (!sync(condition)) {
            check(System.currentTimeMillis() < end, failure);
            Thread.sleep(100);
        }
    }

    /** The dialog button with the given JFace id (its widget data), or null. */
    private static Button button(Composite c, int id) {
        for (Control child : c.getChildren()) {
            if (child instanceof Button b && Integer.valueOf(id).equals(b.getData())) {
                return b;
            }
            if (child instanceof Composite inner) {
                Button b = button(inner, id);
                if (b != null) {
                    return b;
                }
            }
        }
        return null;
    }

    private void screenshot(String name) throws Exception {
        screenshot(window.getShell(), name);
    }

    private void screenshot(Shell shell, String name) throws Exception {
        Files.createDirectories(out);
        sync(() -> {
            Rectangle b = shell.getBounds();
            Image img = new Image(display, b.width, b.height);
            GC gc = new GC(display);
            try {
                gc.copyArea(img, b.x, b.y);
                ImageLoader l = new ImageLoader();
                l.data = new ImageData[] {img.getImageData()};
                l.save(out.resolve(name).toString(), SWT.IMAGE_PNG);
            } finally {
                gc.dispose();
                img.dispose();
            }
            return null;
        });
        report.add("screenshot " + out.resolve(name));
    }

    private <T> T sync(Callable<T> c) throws Exception {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Exception> failure = new AtomicReference<>();
        AtomicReference<Error> error = new AtomicReference<>();
        display.syncExec(() -> {
            try {
                result.set(c.call());
            } catch (Exception e) {
                failure.set(e);
            } catch (Error e) {
                error.set(e);
            }
        });
        if (error.get() != null) {
            throw error.get();
        }
        if (failure.get() != null) {
            throw failure.get();
        }
        return result.get();
    }

    private static void check(boolean ok, String what) {
        if (!ok) {
            throw new AssertionError(what);
        }
    }
}
