/**
 * Contract for {@code ./sisma} sub-commands. A bundle contributes a sub-command by registering a
 * {@link dev.sisma.api.cli.Command} service; the CLI dispatches by {@link dev.sisma.api.cli.Command#name()}.
 * {@link dev.sisma.api.cli.ProgressLine} (1.1) prints a long job's progress the same way for every command.
 */
@Export
@Version("1.1.0")
package dev.sisma.api.cli;

import org.osgi.annotation.bundle.Export;
import org.osgi.annotation.versioning.Version;
