/**
 * PyTorch-style modules and parameters with dotted names, state dicts and initialisers. 2.0: the
 * optimizer is the trainer's ({@code dev.sisma.train.optim.AdamW}); this package no longer has one.
 */
@Export
@Version("2.0.0")
package dev.sisma.engine.nn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
