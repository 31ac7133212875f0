package dev.sisma.autoencoder.internal;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Set;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.AutoencoderProvider;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.spi.Backend;

/**
 * TAEF2 with the weights this bundle ships ({@code /dev/sisma/autoencoder/taef2/}: madebyollin/taesd's
 * {@code taef2_encoder.pth} and {@code taef2_decoder.pth}, MIT licence, converted to safetensors
 * unchanged, float16). A user's file in the same layout holds both halves under the prefixes
 * {@code encoder.} and {@code decoder.}.
 */
@Component(service = AutoencoderProvider.class)
public final class Taef2Provider implements AutoencoderProvider {
    static final String NAME = "taef2";
    static final String RESOURCES = "/dev/sisma/autoencoder/taef2/";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "TAEF2, a tiny autoencoder for FLUX.2's latents (built in: 32 x H/8 x W/8, 2x1.3M parameters, MIT)";
    }

    @Override
    public boolean hasBuiltinWeights() {
        return true;
    }

    @Override
    public Autoencoder openBuiltin(Backend backend) {
        // SafeTensorsFile maps a path, and a bundle's resources are no files: copy them out for the load.
        Path enc = unpack("taef2_encoder.safetensors");
        try {
            Path dec = unpack("taef2_decoder.safetensors");
            try (SafeTensorsFile e = Weights.open(enc); SafeTensorsFile d = Weights.open(dec)) {
                return Taef2.load(NAME, e, d, backend);
            } finally {
                delete(dec);
            }
        } finally {
            delete(enc);
        }
    }

    private static Path unpack(String file) {
        try (InputStream in = Taef2Provider.class.getResourceAsStream(RESOURCES + file)) {
            if (in == null) {
                throw new InputException("the built-in TAEF2 weights are missing from this build (" + RESOURCES + file + ")");
            }
            Path tmp = Files.createTempFile("sisma-" + file.replace(".safetensors", "-"), ".safetensors");
            Files.copy(in, tmp, StandardCopyOption.REPLACE_EXISTING);
            return tmp;
        } catch (IOException e) {
            throw new InputException("cannot unpack the built-in TAEF2 weights: " + e.getMessage(), e);
        }
    }

    private static void delete(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // a temporary file; the OS cleans its temp folder
        }
    }

    @Override
    public boolean recognizes(Set<String> names) {
        return names.contains("encoder.0.weight") && names.contains("encoder.1.conv.0.weight")
                && names.contains("decoder.1.weight") && names.contains("decoder.3.conv.0.weight");
    }

    @Override
    public Autoencoder open(SafeTensorsFile file, Backend backend) {
        return Taef2.load(NAME + " (" + file.path().getFileName() + ")", file, "encoder.", "decoder.", backend);
    }
}
