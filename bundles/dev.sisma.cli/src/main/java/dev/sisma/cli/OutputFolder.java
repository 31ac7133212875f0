package dev.sisma.cli;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Files;
import java.nio.file.Path;

import dev.sisma.api.cli.InputException;
import dev.sisma.data.image.ImageFiles;

/**
 * The {@code --out} folder of {@code generate} and {@code sample}, checked before any model work: it
 * is a folder (or is made one) and a file can be created in it. Each refusal is an
 * {@link InputException} naming the folder and the reason.
 */
final class OutputFolder {
    private OutputFolder() {
    }

    /** Makes {@code out} if missing and checks that files can be written in it. */
    static void prepare(Path out) {
        if (Files.exists(out) && !Files.isDirectory(out)) {
            throw new InputException(out + ": --out needs a folder, but this is an existing file");
        }
        if (!Files.isDirectory(out)) {
            for (Path p = out.toAbsolutePath().getParent(); p != null; p = p.getParent()) {
                if (Files.exists(p)) {
                    if (!Files.isDirectory(p)) {
                        throw new InputException(out + ": cannot create this folder: " + p + " is a file, not a folder");
                    }
                    break;
                }
            }
            try {
                Files.createDirectories(out);
            } catch (FileSystemException e) {
                throw new InputException(out + ": cannot create this folder: " + ImageFiles.reason(e), e);
            } catch (IOException e) {
                throw new InputException(out + ": cannot create this folder: " + e.getMessage(), e);
            }
        }
        // The only sure test of writability (permissions, ACLs, read-only mounts, root): make a file.
        try {
            Path probe = Files.createTempFile(out, ".sisma-write-check-", ".tmp");
            Files.delete(probe);
        } catch (java.nio.file.NoSuchFileException e) {
            // The folder is there, yet a new file in it is "not found": a pseudo file system (/proc, /sys).
            throw new InputException(out + ": cannot write in this folder: its file system does not take new files", e);
        } catch (FileSystemException e) {
            throw new InputException(out + ": cannot write in this folder: " + ImageFiles.reason(e), e);
        } catch (IOException e) {
            throw new InputException(out + ": cannot write in this folder: " + e.getMessage(), e);
        }
    }
}
