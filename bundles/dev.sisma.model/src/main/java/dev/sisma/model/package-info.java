/**
 * SISMA: the model ({@link dev.sisma.model.Sisma}) and its config ({@link dev.sisma.model.SismaConfig},
 * named configs and JSON files).
 */
@Export
@Version("1.1.0")
package dev.sisma.model;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
