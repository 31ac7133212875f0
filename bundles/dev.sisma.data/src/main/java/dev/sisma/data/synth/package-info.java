/** Procedural synthetic faces: masks using all 19 classes and their RGB renderings, from a seed. */
@Export
@Version("1.0.0")
package dev.sisma.data.synth;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
