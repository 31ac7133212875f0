/** Semantic face masks as class indices, and the 19 CelebAMask-HQ classes. */
@Export
@Version("1.0.0")
package dev.sisma.api.mask;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
