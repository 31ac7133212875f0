package dev.sisma.api.generate;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** Generates faces that follow a semantic mask. Thread-safe; long calls report progress and honour cancel. */
@ProviderType
public interface Generator {
    /** Names of the samplers that can be asked for in {@link GenerationRequest#sampler()}. */
    List<String> samplers();

    /**
     * The sampler, steps and guidance that {@link #generate} uses where a request leaves them open,
     * for the model a request with this {@code checkpoint} would use (null: the bundled demo model);
     * empty when this generator cannot tell before it runs (the default).
     *
     * @throws dev.sisma.api.cli.InputException when the checkpoint cannot be read
     * @since 1.2
     */
    default java.util.Optional<SamplingDefaults> defaults(java.nio.file.Path checkpoint) {
        return java.util.Optional.empty();
    }

    /**
     * Runs the sampler for every requested sample. Samples of one request share the mask and differ
     * by seed: sample {@code i} uses seed {@code request.seed() + i}.
     *
     * @throws java.util.concurrent.CancellationException when {@code progress} asked to cancel
     */
    List<GeneratedImage> generate(GenerationRequest request, Progress progress);
}
