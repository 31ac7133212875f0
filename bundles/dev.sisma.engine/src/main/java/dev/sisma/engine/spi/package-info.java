/**
 * The compute backend SPI: the only thing a compute backend implements. Backends register
 * {@link dev.sisma.engine.spi.Backend} as an OSGi service with {@code service.ranking} and
 * {@code sisma.backend.name}.
 */
@Export
@Version("1.0.0")
package dev.sisma.engine.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
