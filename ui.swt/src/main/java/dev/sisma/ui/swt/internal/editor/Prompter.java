package dev.sisma.ui.swt.internal.editor;

import java.nio.file.Path;

/**
 * The questions the editor asks the user. The editor asks only through this, so tests answer them
 * with a script instead of native dialogs (which would block a test).
 */
public interface Prompter {
    enum Answer {
        YES, NO, CANCEL
    }

    /** A yes/no (and cancel, when {@code withCancel}) question. */
    Answer ask(String title, String message, boolean withCancel);

    /** A file to open, or null when the user cancels. */
    Path openFile(String title, String[] extensions, String[] names);

    /** A file to write, or null when the user cancels. */
    Path saveFile(String title, String suggestedName, String[] extensions, String[] names);

    void error(String title, String message);
}
