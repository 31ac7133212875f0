package dev.sisma.api.generate;

import java.util.List;

import org.osgi.annotation.versioning.ProviderType;

/** Generates faces that follow a semantic mask. Thread-safe; long calls report progress and honour cancel. */
@ProviderType
public interface Generator {
    /** Names of the samplers that can be asked for in {@link GenerationRequest#sampler()}. */
    List<String> samplers();

    /**
     * Runs the sampler for every requested sample. Samples of one request share the mask and differ
     * by seed: sample {@code i} uses seed {@code request.seed() + i}.
     *
     * @throws java.util.concurrent.CancellationException when {@code progress} asked to cancel
     */
    List<GeneratedImage> generate(GenerationRequest request, Progress progress);
}
