/**
 * Mask files: class-index PNGs, colour PNGs in the CelebAMask-HQ palette, the official per-part
 * layout, and a colour rendering of a mask. Bad files raise {@link dev.sisma.api.cli.InputException}
 * with one line naming the file and the problem.
 */
@Export
@Version("1.2.0")
package dev.sisma.data.mask;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
