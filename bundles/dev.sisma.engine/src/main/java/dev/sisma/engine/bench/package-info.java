/**
 * The engine's speed figures on any backend ({@link dev.sisma.engine.bench.EngineBench}, for
 * {@code sisma bench engine}), and {@link dev.sisma.engine.bench.BackendThreads}, the service a backend
 * running on host threads registers so the figures can be taken at one thread and at its configured count.
 */
@Export
@Version("1.0.0")
package dev.sisma.engine.bench;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
