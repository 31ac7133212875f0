/**
 * Optimisation over a model's named parameters, on the engine's backend primitives only:
 * {@link dev.sisma.train.optim.AdamW} (fused {@code Backend.adamw}, parameter groups with and
 * without weight decay, global-norm gradient clipping, linear warm-up) and
 * {@link dev.sisma.train.optim.Ema} (an exponential moving average of the weights).
 * Every buffer is allocated once at construction; a step allocates nothing on the device.
 */
@Export
@Version("0.1.0")
package dev.sisma.train.optim;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
