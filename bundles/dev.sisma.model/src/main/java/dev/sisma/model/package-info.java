/**
 * SISMA: the model ({@link dev.sisma.model.Sisma}) and its config ({@link dev.sisma.model.SismaConfig},
 * named configs and JSON files) and {@link dev.sisma.model.ImageSpace} (pixel space, or a frozen autoencoder's latents).
 * 1.3.0: {@link dev.sisma.model.Checkpoints#applyWeightFormat} (Linear weights as BF16/F16, {@code -Dsisma.weights}).
 * 1.4.0: the weight format per load ({@code Checkpoints.loadModel} and {@code applyWeightFormat} with a
 * {@link dev.sisma.api.generate.WeightFormat}, {@code Checkpoints.defaultWeightFormat}) and per benchmark run
 * ({@code ModelBenchmark.run} and {@code runAll} with one).
 */
@Export
@Version("1.4.0")
package dev.sisma.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
