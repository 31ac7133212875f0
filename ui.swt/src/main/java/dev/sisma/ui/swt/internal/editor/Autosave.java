package dev.sisma.ui.swt.internal.editor;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.MaskFiles;

/**
 * Keeps a copy of unsaved work in {@code <dir>/autosave-<pid>.png} (a class-index PNG) plus a
 * {@code .properties} naming the file it belongs to. A clean exit deletes it; a file left by a
 * process that no longer runs is what a crash left behind, and the next start offers it back.
 */
public final class Autosave {
    private static final Pattern NAME = Pattern.compile("autosave-(\\d+)\\.png");

    /** A leftover autosave of a process that is gone. */
    public record Found(Path mask, Path meta, Path original, Instant time, long pid) {
    }

    private final Path dir;
    private final long pid;

    public Autosave(Path dir) {
        this(dir, ProcessHandle.current().pid());
    }

    Autosave(Path dir, long pid) {
        this.dir = dir;
        this.pid = pid;
    }

    /** {@code $XDG_CACHE_HOME/sisma} or {@code ~/.cache/sisma}. */
    public static Path defaultDir() {
        String xdg = System.getenv("XDG_CACHE_HOME");
        Path base = xdg != null && !xdg.isBlank() ? Path.of(xdg) : Path.of(System.getProperty("user.home"), ".cache");
        return base.resolve("sisma");
    }

    public Path dir() {
        return dir;
    }

    public Path file() {
        return dir.resolve("autosave-" + pid + ".png");
    }

    private Path meta(Path png) {
        String n = png.getFileName().toString();
        return png.resolveSibling(n.substring(0, n.length() - 4) + ".properties");
    }

    /** Writes the mask (atomically, like every file we write) and which file it is a copy of. */
    public void write(Mask mask, Path original) throws IOException {
        Files.createDirectories(dir);
        MaskFiles.writeIndex(mask, file());
        Properties p = new Properties();
        if (original != null) {
            p.setProperty("original", original.toAbsolutePath().toString());
        }
        p.setProperty("time", Instant.now().toString());
        ImageFiles.writeAtomically(meta(file()), out -> p.store(out, "sisma editor autosave"));
    }

    /** Deletes this process's autosave (nothing unsaved any more, or a clean exit). */
    public void clear() {
        delete(file());
    }

    private void delete(Path png) {
        try {
            Files.deleteIfExists(png);
            Files.deleteIfExists(meta(png));
        } catch (IOException e) {
            // A leftover file is offered once more at the next start; nothing is lost.
        }
    }

    /** Autosaves left by processes that are no longer running, newest first. */
    public List<Found> orphans() {
        List<Found> found = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return found;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir, "autosave-*.png")) {
            for (Path png : s) {
                Matcher m = NAME.matcher(png.getFileName().toString());
                if (!m.matches()) {
                    continue;
                }
                long owner = Long.parseLong(m.group(1));
                if (owner == pid || ProcessHandle.of(owner).map(ProcessHandle::isAlive).orElse(false)) {
                    continue;
                }
                Properties p = new Properties();
                Path meta = meta(png);
                if (Files.exists(meta)) {
                    try (InputStream in = Files.newInputStream(meta)) {
                        p.load(in);
                    }
                }
                String orig = p.getProperty("original");
                Instant time;
                try {
                    time = Instant.parse(p.getProperty("time", ""));
                } catch (RuntimeException e) {
                    time = Files.getLastModifiedTime(png).toInstant();
                }
                found.add(new Found(png, meta, orig == null ? null : Path.of(orig), time, owner));
            }
        } catch (IOException | RuntimeException e) {
            return found;
        }
        found.sort((a, b) -> b.time().compareTo(a.time()));
        return found;
    }

    public static Mask read(Found f) {
        return MaskFiles.readIndex(f.mask());
    }

    public void discard(Found f) {
        delete(f.mask());
    }

}
