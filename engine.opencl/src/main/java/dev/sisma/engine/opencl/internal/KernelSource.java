package dev.sisma.engine.opencl.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;

/**
 * The kernel program: the shared dialect header followed by the kernel files, all from
 * {@code engine.kernels/} in the source tree (copied into this bundle under
 * {@value #FOLDER}). The CUDA backend compiles the same files with nvcc.
 */
final class KernelSource {
    static final String FOLDER = "/dev/sisma/engine/kernels/";
    /** The dialect first; then every kernel file. */
    static final String[] FILES = {"sk_dialect.h", "elementwise.cl", "gemm.cl", "reduce_norm.cl", "conv_index.cl",
            "scan.cl", "random.cl"};

    private KernelSource() {}

    /** The whole program as one string; each file starts with a #line directive so build logs name it. */
    static String program() {
        StringBuilder sb = new StringBuilder(64 * 1024);
        for (String f : FILES) {
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
