package dev.sisma.autoencoder.internal;

import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.api.cli.UsageException;
import dev.sisma.autoencoder.Autoencoder;
import dev.sisma.autoencoder.Autoencoders;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.image.Images;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;

/** {@code sisma vae roundtrip}: how faithfully an autoencoder reproduces a picture. */
@Component(service = Command.class)
public final class VaeCommand implements Command {
    static final int DEFAULT_SIZE = 256;

    private final Backends backends;
    private final Autoencoders autoencoders;

    @Activate
    public VaeCommand(@Reference Backends backends, @Reference Autoencoders autoencoders) {
        this.backends = backends;
        this.autoencoders = autoencoders;
    }

    @Override
    public String name() {
        return "vae";
    }

    @Override
    public String summary() {
        return "image autoencoders: encode and decode a picture, print the PSNR (roundtrip)";
    }

    @Override
    public String usage() {
        String kinds = autoencoders.providers().stream()
                .map(p -> String.format("    %-8s %s", p.name(), p.description()))
                .collect(Collectors.joining("\n"));
        return """
                usage: sisma vae roundtrip --image FILE [--vae taef2|FILE] [--size 256] [--out FILE.png] [--backend NAME]
                  Center-crops the image to a square, resizes it to --size (a multiple of the autoencoder's
                  downscale factor, 8), encodes it to a latent and decodes it again; prints the PSNR of the
                  reconstruction against the resized image (RGB, 0..1 scale, peak 1) and the times.
                  --vae: an autoencoder name, or a weights file (diffusers' AutoencoderKL names, e.g.
                  sd-vae-ft-mse's diffusion_pytorch_model.safetensors); default taef2. --out: writes the
                  reconstruction as PNG.
                  Autoencoders:
                """ + kinds;
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Args a = Args.parse(args, Set.of("--image", "--vae", "--size", "--out", "--backend"), Set.of());
        List<String> pos = a.positional();
        if (pos.isEmpty()) {
            throw new UsageException("missing action (roundtrip)");
        }
        if (!pos.get(0).equals("roundtrip") || pos.size() > 1) {
            throw new UsageException("unknown action '" + String.join(" ", pos) + "' (known: roundtrip)");
        }
        Path image = ctx.resolve(a.required("--image"));
        int size = a.getInt("--size", DEFAULT_SIZE);
        if (size < 8 || size > 4096 || size % 8 != 0) {
            throw new UsageException("option --size needs a multiple of 8 from 8 to 4096, got " + size);
        }
        Path out = a.has("--out") ? ctx.resolve(a.get("--out", null)) : null;
        String bn = a.get("--backend", null);
        Optional<Backend> ob = bn == null ? backends.current() : backends.byName(bn);
        Backend be = ob.orElseThrow(() -> new InputException(bn == null ? "no compute backend is registered"
                : "compute backend '" + bn + "' is not registered"));
        float[] chw = Images.toChw(ImageFiles.read(image), size);
        String spec = a.get("--vae", Autoencoders.DEFAULT);
        try (Autoencoder ae = autoencoders.open(spec, ctx.workingDirectory(), be)) {
            if (size % ae.downscale() != 0) {
                throw new UsageException("option --size needs a multiple of " + ae.downscale() + " for " + ae.name()
                        + ", got " + size);
            }
            RoundTrip.Result r = RoundTrip.run(ae, chw, size);
            int[] z = r.latentDims();
            ctx.out().printf("%s: %s at %dx%d -> latent %dx%dx%d -> PSNR %.2f dB (encode %.2f s, decode %.2f s, %s)%n",
                    ae.name(), image.getFileName(), size, size, z[1], z[2], z[3], r.psnr(), r.encodeSeconds(),
                    r.decodeSeconds(), be.name());
            if (out != null) {
                ImageFiles.writePng(Images.fromChw(r.decoded(), size, size), out);
                ctx.out().println("wrote " + out);
            }
            return 0;
        }
    }
}
