package dev.sisma.autoencoder;

import java.nio.file.Path;
import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

import dev.sisma.engine.spi.Backend;

/** The registered {@link AutoencoderProvider}s, and opening an autoencoder by name or weights file. */
@ProviderType
public interface Autoencoders {
    /** The autoencoder used when none is named: TAEF2, which ships its weights. */
    String DEFAULT = "taef2";

    /** Every registered provider, by name. */
    List<AutoencoderProvider> providers();

    /**
     * Opens {@code spec}: the name of a provider with built-in weights ({@code "taef2"}), else a
     * safetensors file (resolved against {@code workingDirectory}) whose tensor names tell which
     * provider reads it (diffusers' AutoencoderKL names: {@code "sd-vae"}).
     *
     * @throws dev.sisma.api.cli.InputException with one line naming the file and the problem: no such
     *         file, not safetensors, truncated, a layout no provider knows, a missing or misshapen tensor
     */
    Autoencoder open(String spec, Path workingDirectory, Backend backend);
}
