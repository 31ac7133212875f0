/**
 * SISMA: the model ({@link dev.sisma.model.Sisma}) and its config ({@link dev.sisma.model.SismaConfig},
 * named configs and JSON files) and {@link dev.sisma.model.ImageSpace} (pixel space, or a frozen autoencoder's latents).
 * 1.3.0: {@link dev.sisma.model.Checkpoints#applyWeightFormat} (Linear weights as BF16/F16, {@code -Dsisma.weights}).
 */
@Export
@Version("1.3.0")
package dev.sisma.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
