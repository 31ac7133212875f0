package dev.sisma.engine.cuda.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;

/**
 * The kernels of {@code engine.kernels/} as compiled by nvcc at build time (build-kernels.sh): one
 * fatbin (SASS for sm_80 and sm_90, PTX for newer GPUs) and its properties (source hash, nvcc
 * version, SK_WG), carried in this bundle under {@value #FOLDER}. A bundle built where nvcc was
 * missing carries none. (engine.opencl's KernelSource is the same for the OpenCL sources.)
 */
final class KernelBinary {
    static final String FOLDER = "/dev/sisma/engine/cuda/kernels/";
    static final String FATBIN = "sisma-kernels.fatbin";
    static final String PROPERTIES = "sisma-kernels.properties";

    /** The fatbin's bytes and how it was built. */
    record Image(byte[] fatbin, Properties properties) {
        /** SK_WG the kernels were compiled with. */
        int rowGroup() {
            return Integer.parseInt(properties.getProperty("sk_wg", "256"));
        }

        String nvcc() {
            return properties.getProperty("nvcc", "?");
        }
    }

    private KernelBinary() {}

    /** The carried fatbin, or null when this bundle was built without nvcc. */
    static Image load() {
        try (InputStream bin = KernelBinary.class.getResourceAsStream(FOLDER + FATBIN);
             InputStream props = KernelBinary.class.getResourceAsStream(FOLDER + PROPERTIES)) {
            if (bin == null || props == null) return null;
            Properties p = new Properties();
            p.load(props);
            return new Image(bin.readAllBytes(), p);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the CUDA kernels " + FOLDER + FATBIN, e);
        }
    }
}
