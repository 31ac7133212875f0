/**
 * Flow-matching samplers as services: the {@link dev.sisma.model.sampling.Sampler} SPI, the
 * {@link dev.sisma.model.sampling.VelocityField} it integrates, and {@link dev.sisma.model.sampling.Samplers}
 * for the built-in Euler and Heun samplers without OSGi.
 */
@Export
@Version("1.0.0")
package dev.sisma.model.sampling;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
