/**
 * The compute backend SPI: the only thing a compute backend implements. Backends register
 * {@link dev.sisma.engine.spi.Backend} as an OSGi service with {@code service.ranking} and
 * {@code sisma.backend.name}. Helpers for implementations: {@link dev.sisma.engine.spi.Philox}
 * (the random numbers every backend must reproduce) and {@link dev.sisma.engine.spi.BufferPool}
 * (memory recycled by size class), {@link dev.sisma.engine.spi.HostFallback} (ops a backend does not support
 * run on another). 2.0.0: {@code Backend} needs only the primitives ({@link dev.sisma.engine.spi.BackendOp}),
 * gained compare and select, and says what it {@code supports}; everything else has a default composite.
 * 2.1.0: the fused AdaLN and Mamba-gate ops ({@code modulate}, {@code layerNormModulate},
 * {@code gatedResidual}, {@code siluGate}), default methods written from the primitives;
 * {@code uploadHalf} (weights given as F16/BF16, which a backend may keep at half size);
 * {@code BufferPool.discard}.
 */
@Export
@Version("2.1.0")
package dev.sisma.engine.spi;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
