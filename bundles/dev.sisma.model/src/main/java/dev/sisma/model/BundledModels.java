package dev.sisma.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.api.cli.InputException;

/**
 * The models shipped in this bundle, by name: {@code demo-32} (32x32 pixel space, the default) and
 * {@code demo-256} (256x256 through TAEF2's latents); {@code demo} is {@code demo-32}. A checkpoint is
 * memory-mapped from a path and a bundle's resources are no files, so each one used is copied once
 * to a temporary file, deleted by {@link #close}. One instance per user (the generator, a command).
 */
public final class BundledModels implements AutoCloseable {
    /** The names, the default first. */
    public static final List<String> NAMES = List.of("demo-32", "demo-256");
    /** The model used when none is named. */
    public static final String DEFAULT = "demo-32";

    private static final Map<String, String> RESOURCES = Map.of(
            "demo-32", "/dev/sisma/model/demo/demo.safetensors",
            "demo-256", "/dev/sisma/model/demo/demo-256.safetensors");

    private final Map<String, Path> copies = new HashMap<>();   // guarded by this

    /** True for a bundled model's name (or the alias {@code demo}). */
    public static boolean isName(String name) {
        return name != null && (NAMES.contains(name) || name.equals("demo"));
    }

    /** The bundle resource of a model name. */
    public static String resource(String name) {
        String r = RESOURCES.get("demo".equals(name) ? DEFAULT : name);
        if (r == null) {
            throw new InputException("unknown model '" + name + "'; bundled: " + String.join(", ", NAMES) + " (or a checkpoint FILE)");
        }
        return r;
    }

    /**
     * The checkpoint file of a bundled model (copied out on first use).
     *
     * @throws InputException for an unknown name, or one this build does not ship
     */
    public synchronized Path path(String name) {
        String res = resource(name);
        Path p = copies.get(res);
        if (p != null && Files.exists(p)) {
            return p;
        }
        try (InputStream in = BundledModels.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new InputException("model " + name + " is not bundled in this build (" + res
                        + " is missing); train one with the train command and pass its checkpoint FILE");
            }
            Path tmp = Files.createTempFile("sisma-" + name + "-", ".safetensors");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            tmp.toFile().deleteOnExit();
            copies.put(res, tmp);
            return tmp;
        } catch (IOException e) {
            throw new InputException("cannot unpack the bundled model " + name + ": " + e.getMessage(), e);
        }
    }

    /** Deletes the copies. */
    @Override
    public synchronized void close() {
        for (Path p : copies.values()) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temporary file, also deleted on exit
            }
        }
        copies.clear();
    }
}
