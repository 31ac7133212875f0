package dev.sisma.api.cli;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Path;

import org.osgi.annotation.versioning.ProviderType;

/** Where a command reads and writes: the user's terminal and working directory. */
@ProviderType
public interface CommandContext {
    PrintStream out();

    PrintStream err();

    InputStream in();

    /** The directory the user ran {@code ./sisma} from; relative paths resolve against it. */
    Path workingDirectory();

    /** Resolves a user-given path against {@link #workingDirectory()}. */
    default Path resolve(String path) {
        return workingDirectory().resolve(path).normalize();
    }
}
