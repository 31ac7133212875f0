package dev.sisma.ui.swt.internal.editor;

import java.nio.file.Path;
import java.util.function.LongFunction;

import org.eclipse.swt.SWT;
import org.eclipse.swt.layout.FillLayout;
import org.eclipse.swt.widgets.Display;
import org.eclipse.swt.widgets.Menu;
import org.eclipse.swt.widgets.MenuItem;
import org.eclipse.swt.widgets.MessageBox;
import org.eclipse.swt.widgets.Shell;

import dev.sisma.api.mask.Mask;
import dev.sisma.ui.swt.internal.generate.GeneratorSource;

/** The standalone editor window: a shell with a menu bar around a {@link MaskEditor}. */
public final class EditorWindow {
    /** Autosave interval. */
    public static final int AUTOSAVE_MS = 15_000;

    private final Shell shell;
    private final MaskEditor editor;

    public EditorWindow(Display display, GeneratorSource generators, Autosave autosave, LongFunction<Mask> starterFaces) {
        shell = new Shell(display, SWT.SHELL_TRIM);
        shell.setLayout(new FillLayout());
        editor = new MaskEditor(shell, generators);
        // Keys anywhere in this window (outside text fields) drive the editor.
        shell.setData(MaskEditor.class.getName(), editor);
        editor.setAutosave(autosave);
        editor.setStarterFaces(starterFaces);
        editor.onTitleChange(() -> {
            if (!shell.isDisposed()) {
                shell.setText(editor.title());
            }
        });
        shell.setText(editor.title());
        menus();
        shell.addListener(SWT.Close, e -> {
            e.doit = editor.confirmDiscard();
            if (e.doit) {
                editor.closed();
            }
        });
        shell.setSize(1280, 820);
    }

    public Shell shell() {
        return shell;
    }

    public MaskEditor editor() {
        return editor;
    }

    /** Opens the window, offers crash recovery, then opens {@code initial} (when given and nothing was recovered). */
    public void open(Path initial) {
        shell.open();
        boolean recovered = editor.offerRecovery();
        if (!recovered && initial != null) {
            editor.openFile(initial);
        }
        editor.startAutosave(AUTOSAVE_MS);
    }

    private void menus() {
        Menu bar = new Menu(shell, SWT.BAR);
        shell.setMenuBar(bar);
        Menu file = menu(bar, "&File");
        item(file, "&New blank\tCtrl+N", editor::newBlank);
        item(file, "New &starter face", editor::newStarter);
        item(file, "&Open mask...\tCtrl+O", editor::open);
        item(file, "Open reference &photo...", editor::openReference);
        new MenuItem(file, SWT.SEPARATOR);
        item(file, "&Save\tCtrl+S", editor::save);
        item(file, "Save &as...\tCtrl+Shift+S", editor::saveAs);
        MenuItem colour = new MenuItem(file, SWT.CHECK);
        colour.setText("Also write &colour PNG");
        colour.setSelection(true);
        colour.addListener(SWT.Selection, e -> editor.setAlsoWriteColour(colour.getSelection()));
        new MenuItem(file, SWT.SEPARATOR);
        item(file, "E&xit", shell::close);
        Menu edit = menu(bar, "&Edit");
        item(edit, "&Undo\tCtrl+Z", () -> editor.document().undo());
        item(edit, "&Redo\tCtrl+Shift+Z", () -> editor.document().redo());
        Menu view = menu(bar, "&View");
        item(view, "&Fit\tF", () -> editor.canvas().fit());
        item(view, "Actual size\tCtrl+0", () -> editor.canvas().zoomTo(1));
        Menu help = menu(bar, "&Help");
        item(help, "&Keys and mouse", () -> {
            MessageBox m = new MessageBox(shell, SWT.ICON_INFORMATION | SWT.OK);
            m.setText("Keys and mouse");
            m.setMessage(HELP);
            m.open();
        });
    }

    static final String HELP = """
            Tools: B brush, E eraser, G fill, R rectangle, O ellipse, I pick class
            Classes: 0-9, Alt+0..Alt+8 for 10-18, comma / period for previous / next
            Brush: [ and ] size (Shift: by 10) or Ctrl+wheel, S round / square
            Palette: click picks the class; Shift+click paints only over that class
            Mouse: left paints, right (or Alt+left) picks the class under the cursor,
              wheel zooms at the cursor, middle drag (or Space+drag) pans
            View: F fit, + / - zoom, Ctrl+0 actual size, hold H to highlight the class
            Undo Ctrl+Z, redo Ctrl+Shift+Z or Ctrl+Y; Ctrl+G generate""";

    private static Menu menu(Menu bar, String text) {
        MenuItem top = new MenuItem(bar, SWT.CASCADE);
        top.setText(text);
        Menu m = new Menu(top);
        top.setMenu(m);
        return m;
    }

    private static void item(Menu m, String text, Runnable action) {
        MenuItem i = new MenuItem(m, SWT.PUSH);
        i.setText(text);
        i.addListener(SWT.Selection, e -> action.run());
    }
}
