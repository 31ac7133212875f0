package dev.sisma.api.cli;

/**
 * An input the user gave is bad (a corrupt PNG, a malformed checkpoint, a bad config value).
 * The message is one line that names the problem and the file. The CLI prints it; exit code 2.
 */
public class InputException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InputException(String message) {
        super(message);
    }

    public InputException(String message, Throwable cause) {
        super(message, cause);
    }
}
