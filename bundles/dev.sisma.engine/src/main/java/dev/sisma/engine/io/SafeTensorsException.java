package dev.sisma.engine.io;

import java.nio.file.Path;

/**
 * A safetensors file that cannot be read or written as asked. The message is one line,
 * {@code "<file>: <tensor>: <problem>"}, or {@code "<file>: <problem>"} when the problem is not
 * about one tensor (the file size, the header length, the JSON, {@code __metadata__}).
 */
public final class SafeTensorsException extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    private final transient Path file;
    private final String tensor;
    private final String problem;

    public SafeTensorsException(Path file, String tensor, String problem) {
        super(format(file, tensor, problem));
        this.file = file;
        this.tensor = tensor;
        this.problem = problem;
    }

    public SafeTensorsException(Path file, String tensor, String problem, Throwable cause) {
        this(file, tensor, problem);
        initCause(cause);
    }

    private static String format(Path file, String tensor, String problem) {
        return tensor == null ? file + ": " + problem : file + ": " + tensor + ": " + problem;
    }

    /** The file concerned. */
    public Path file() {
        return file;
    }

    /** The tensor concerned, or null when the problem is about the file as a whole. */
    public String tensor() {
        return tensor;
    }

    /** The problem alone, without the file and tensor names. */
    public String problem() {
        return problem;
    }
}
