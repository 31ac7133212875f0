package dev.sisma.server.internal;

import java.io.IOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;

/** The API token: 32 random bytes in hex, in {@code <state dir>/token}, readable by its owner only. */
final class Token {
    static final String FILE = "token";

    /** The token and whether this call made it (so it is shown once). */
    record Loaded(String value, boolean created, Path file) {
    }

    private Token() {
    }

    static Loaded loadOrCreate(Path stateDir) throws IOException {
        ownerOnlyDirectory(stateDir);
        Path file = stateDir.resolve(FILE);
        if (Files.exists(file)) {
            String t = Files.readString(file, StandardCharsets.US_ASCII).trim();
            if (t.length() >= 32) {
                return new Loaded(t, false, file);
            }
        }
        byte[] raw = new byte[32];
        new SecureRandom().nextBytes(raw);
        String token = HexFormat.of().formatHex(raw);
        Path tmp = stateDir.resolve("." + FILE + "." + System.nanoTime() + ".tmp");
        if (posix()) {
            Files.createFile(tmp, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } else {
            Files.createFile(tmp);
        }
        try (Writer w = Files.newBufferedWriter(tmp, StandardCharsets.US_ASCII)) {
            w.write(token + "\n");
        }
        try {
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return new Loaded(token, true, file);
    }

    /** Reads the token the serve command made; null when there is none. */
    static String read(Path stateDir) throws IOException {
        Path file = stateDir.resolve(FILE);
        return Files.exists(file) ? Files.readString(file, StandardCharsets.US_ASCII).trim() : null;
    }

    static void ownerOnlyDirectory(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            if (posix()) {
                Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
            } else {
                Files.createDirectories(dir);
            }
        }
        if (posix()) {
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
        }
    }

    /** Constant-time comparison, so response times say nothing about how much of a guess was right. */
    static boolean matches(String expected, String given) {
        if (expected == null || given == null) {
            return false;
        }
        return MessageDigest.isEqual(expected.getBytes(StandardCharsets.US_ASCII), given.getBytes(StandardCharsets.US_ASCII));
    }

    private static boolean posix() {
        return FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    }
}
