package dev.sisma.autoencoder;

import java.util.Set;

import org.osgi.annotation.versioning.ConsumerType;

import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.spi.Backend;

/**
 * One kind of autoencoder, registered as a service: it knows its weight layout and builds
 * {@link Autoencoder}s on a backend, from weights it ships or from a user's safetensors file.
 * {@link Autoencoders} picks the provider by name or by the file's tensor names.
 */
@ConsumerType
public interface AutoencoderProvider {
    /** The kind's name, unique among providers ({@code "taef2"}, {@code "sd-vae"}). */
    String name();

    /** One line for help texts. */
    String description();

    /** True when {@link #openBuiltin} works (the provider ships weights). */
    boolean hasBuiltinWeights();

    /**
     * The autoencoder with the provider's own weights.
     *
     * @throws dev.sisma.api.cli.InputException when it ships none (the message says where to get them)
     */
    Autoencoder openBuiltin(Backend backend);

    /** True when a weights file with these tensor names has this kind's layout. */
    boolean recognizes(Set<String> tensorNames);

    /**
     * The autoencoder with the weights of {@code file} (F32, F16 or BF16; copied, so the file may be
     * closed afterwards); its configuration is read from the tensor shapes.
     *
     * @throws dev.sisma.api.cli.InputException naming the file and the tensor when a tensor is missing,
     *         has the wrong shape or is not a parameter of this kind
     */
    Autoencoder open(SafeTensorsFile file, Backend backend);
}
