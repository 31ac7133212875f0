/**
 * Contract for {@code ./sisma} sub-commands. A bundle contributes a sub-command by registering a
 * {@link dev.sisma.api.cli.Command} service; the CLI dispatches by {@link dev.sisma.api.cli.Command#name()}.
 */
@Export
@Version("1.0.0")
package dev.sisma.api.cli;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
