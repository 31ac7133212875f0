package dev.sisma.autoencoder.internal;

import java.util.Set;

import org.osgi.service.component.annotations.Component;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.AutoencoderProvider;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.spi.Backend;

/** Stable Diffusion's AutoencoderKL from a diffusers weights file (e.g. sd-vae-ft-mse); no weights are shipped. */
@Component(service = AutoencoderProvider.class)
public final class SdVaeProvider implements AutoencoderProvider {
    static final String NAME = "sd-vae";

    @Override
    public String name() {
        return NAME;
    }

    @Override
    public String description() {
        return "Stable Diffusion's VAE (AutoencoderKL, diffusers names; 4 x H/8 x W/8, scaling 0.18215) from --vae FILE";
    }

    @Override
    public boolean hasBuiltinWeights() {
        return false;
    }

    @Override
    public Autoencoder openBuiltin(Backend backend) {
        throw new InputException("the SD-VAE ships no weights: download stabilityai/sd-vae-ft-mse's "
                + "diffusion_pytorch_model.safetensors and pass its path");
    }

    @Override
    public boolean recognizes(Set<String> names) {
        return names.contains("encoder.conv_in.weight") && names.contains("decoder.conv_in.weight")
                && names.contains("post_quant_conv.weight");
    }

    @Override
    public Autoencoder open(SafeTensorsFile file, Backend backend) {
        return SdVae.load(NAME + " (" + file.path().getFileName() + ")", file, backend);
    }
}
