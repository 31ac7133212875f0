package dev.sisma.api.cli;

import org.osgi.annotation.versioning.ConsumerType;

/**
 * One {@code ./sisma} sub-command, registered as an OSGi service. Third-party bundles add
 * sub-commands by registering their own.
 *
 * <p>Exit codes: 0 success, 1 failure while running, 2 bad usage or bad input
 * (throw {@link UsageException} or {@link InputException}; the CLI prints one line and the usage).
 */
@ConsumerType
public interface Command {
    /** The word a user types, e.g. {@code "info"}. Unique among registered commands. */
    String name();

    /** One line for {@code ./sisma --help}. */
    String summary();

    /** Full usage text, starting with {@code "usage: sisma <name> ..."}. */
    String usage();

    /** Runs the command; returns the process exit code. */
    int run(java.util.List<String> args, CommandContext context) throws Exception;
}
