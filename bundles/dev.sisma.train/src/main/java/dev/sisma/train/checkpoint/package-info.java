/**
 * Training checkpoints in safetensors: the model's weights under their state-dict names (so the
 * file loads in PyTorch unchanged), the EMA weights ({@code ema.<name>}), AdamW's moments
 * ({@code optim.m.<name>}, {@code optim.v.<name>}) and, in {@code __metadata__}, the step, the
 * random-number state, the model config and the training settings. See
 * {@link dev.sisma.train.checkpoint.Checkpoint}.
 */
@Export
@Version("0.1.0")
package dev.sisma.train.checkpoint;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
