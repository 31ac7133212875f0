package dev.sisma.engine.opencl.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The kernel program: the files of {@code engine.kernels/} in the order of its {@code kernels.list}
 * (generated op codes, the dialect, every kernel file), copied into this bundle under
 * {@value #FOLDER}. The CUDA backend's build compiles the same list with nvcc.
 */
final class KernelSource {
    static final String FOLDER = "/dev/sisma/engine/kernels/";

    private KernelSource() {}

    /** The files of kernels.list, in order. */
    static List<String> files() {
        return read("kernels.list").lines().map(String::strip).filter(l -> !l.isEmpty() && !l.startsWith("#")).toList();
    }

    /** The whole program as one string, each file under a comment naming it. */
    static String program() {
        StringBuilder sb = new StringBuilder(64 * 1024);
        for (String f : files()) {
            sb.append("/* ---- ").append(f).append(" ---- */\n");
            sb.append(read(f)).append('\n');
        }
        return sb.toString();
    }

    static String read(String file) {
        try (InputStream in = KernelSource.class.getResourceAsStream(FOLDER + file)) {
            if (in == null) {
                throw new IllegalStateException("kernel source " + FOLDER + file + " is missing from the bundle");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read kernel source " + file, e);
        }
    }
}
