/**
 * Image autoencoders for latent models: the {@link dev.sisma.autoencoder.Autoencoder} contract,
 * the {@link dev.sisma.autoencoder.AutoencoderProvider} services that make them (one per kind:
 * TAEF2 with its built-in weights, Stable Diffusion's AutoencoderKL from a user's weights file),
 * and {@link dev.sisma.autoencoder.Autoencoders}, which opens one from a name or a file.
 */
@Export
@Version("1.0.0")
package dev.sisma.autoencoder;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
