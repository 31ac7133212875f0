package dev.sisma.api.cli;

/** The command line is wrong (unknown option, missing value). The CLI prints the message and the usage; exit code 2. */
public class UsageException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public UsageException(String message) {
        super(message);
    }
}
