/** The backend conformance suite, definitional references and test runtime requirements. */
@Export
@Version("1.1.0")
package dev.sisma.engine.testkit;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
