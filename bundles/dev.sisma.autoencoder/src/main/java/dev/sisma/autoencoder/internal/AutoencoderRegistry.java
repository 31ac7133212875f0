package dev.sisma.autoencoder.internal;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;

import dev.sisma.api.cli.InputException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.AutoencoderProvider;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.spi.Backend;

/** {@link Autoencoders} over the registered providers (they may come and go with their bundles). */
@Component(service = Autoencoders.class)
public final class AutoencoderRegistry implements Autoencoders {
    private final List<AutoencoderProvider> providers = new CopyOnWriteArrayList<>();

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC,
            policyOption = ReferencePolicyOption.GREEDY)
    void addProvider(AutoencoderProvider p) {
        providers.add(p);
    }

    void removeProvider(AutoencoderProvider p) {
        providers.remove(p);
    }

    @Override
    public List<AutoencoderProvider> providers() {
        return providers.stream().sorted(Comparator.comparing(AutoencoderProvider::name)).toList();
    }

    @Override
    public Autoencoder open(String spec, Path workingDirectory, Backend backend) {
        for (AutoencoderProvider p : providers()) {
            if (p.name().equals(spec)) {
                return p.openBuiltin(backend);
            }
        }
        Path file = workingDirectory.resolve(spec).normalize();
        if (!Files.exists(file) && !spec.contains("/") && !spec.endsWith(".safetensors")) {
            throw new InputException(spec + ": neither an autoencoder name (" + names() + ") nor an existing file");
        }
        if (Files.isDirectory(file)) {
            throw new InputException(file + ": is a directory, not a safetensors weights file");
        }
        try (SafeTensorsFile f = Weights.open(file)) {
            for (AutoencoderProvider p : providers()) {
                if (p.recognizes(f.names())) {
                    return p.open(f, backend);
                }
            }
            throw new InputException(file + ": not the weights of a known autoencoder (" + names()
                    + "; e.g. diffusers' AutoencoderKL names: encoder.conv_in.weight, ...)");
        }
    }

    private String names() {
        return providers().stream().map(AutoencoderProvider::name).collect(Collectors.joining(", "));
    }
}
