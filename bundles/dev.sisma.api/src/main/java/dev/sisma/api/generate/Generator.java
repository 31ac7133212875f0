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
     * Names of the models this generator ships, the one a request without a checkpoint uses first
     * (e.g. {@code demo-32}, {@code demo-256}); empty when it ships none (the default).
     *
     * @since 1.3
     */
    default List<String> models() {
        return List.of();
    }

    /**
     * The checkpoint of a model this generator ships, to put in {@link GenerationRequest#checkpoint()};
     * empty for a name it does not know (the default).
     *
     * @throws dev.sisma.api.cli.InputException when the model is known but missing from this build
     * @since 1.3
     */
    default java.util.Optional<java.nio.file.Path> model(String name) {
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
