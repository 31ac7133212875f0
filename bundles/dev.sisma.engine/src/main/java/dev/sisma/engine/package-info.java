/** Tensors and the services that pick a backend. */
@Export
@Version("1.0.0")
package dev.sisma.engine;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
