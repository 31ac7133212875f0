/**
 * PyTorch-style modules and parameters with dotted names, state dicts and initialisers. 2.0: the
 * optimizer is the trainer's ({@code dev.sisma.train.optim.AdamW}); this package no longer has one.
 * 2.1: {@link dev.sisma.engine.nn.Module#halfLinearWeights} keeps Linear weights as F16/BF16.
 */
@Export
@Version("2.1.0")
package dev.sisma.engine.nn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
