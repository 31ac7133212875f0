/** PyTorch-style modules and parameters with dotted names, state dicts and initialisers. */
@Export
@Version("1.0.0")
package dev.sisma.engine.nn;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
