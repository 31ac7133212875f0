/**
 * The face generator as a service: a mask in, images out. The CLI's {@code generate} command and
 * the mask editor both call it; other bundles can too.
 */
@Export
@Version("1.4.0")
package dev.sisma.api.generate;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
