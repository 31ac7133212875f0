package dev.sisma.ui.swt.internal.editor;

import java.nio.file.Path;

import org.eclipse.swt.SWT;
import org.eclipse.swt.widgets.FileDialog;
import org.eclipse.swt.widgets.MessageBox;
import org.eclipse.swt.widgets.Shell;

/** {@link Prompter} with native SWT dialogs. */
public final class SwtPrompter implements Prompter {
    private final Shell shell;
    private String lastFolder;

    public SwtPrompter(Shell shell) {
        this.shell = shell;
    }

    @Override
    public Answer ask(String title, String message, boolean withCancel) {
        MessageBox box = new MessageBox(shell, SWT.ICON_QUESTION | SWT.YES | SWT.NO | (withCancel ? SWT.CANCEL : 0));
        box.setText(title);
        box.setMessage(message);
        int r = box.open();
        return r == SWT.YES ? Answer.YES : r == SWT.NO ? Answer.NO : Answer.CANCEL;
    }

    @Override
    public Path openFile(String title, String[] extensions, String[] names) {
        FileDialog d = new FileDialog(shell, SWT.OPEN);
        return run(d, title, null, extensions, names);
    }

    @Override
    public Path saveFile(String title, String suggestedName, String[] extensions, String[] names) {
        FileDialog d = new FileDialog(shell, SWT.SAVE);
        d.setOverwrite(true);
        return run(d, title, suggestedName, extensions, names);
    }

    private Path run(FileDialog d, String title, String name, String[] extensions, String[] names) {
        d.setText(title);
        d.setFilterExtensions(extensions);
        d.setFilterNames(names);
        if (lastFolder != null) {
            d.setFilterPath(lastFolder);
        }
        if (name != null) {
            d.setFileName(name);
        }
        String f = d.open();
        if (f == null) {
            return null;
        }
        Path p = Path.of(f);
        lastFolder = p.getParent() == null ? null : p.getParent().toString();
        return p;
    }

    @Override
    public void error(String title, String message) {
        MessageBox box = new MessageBox(shell, SWT.ICON_ERROR | SWT.OK);
        box.setText(title);
        box.setMessage(message);
        box.open();
    }
}
