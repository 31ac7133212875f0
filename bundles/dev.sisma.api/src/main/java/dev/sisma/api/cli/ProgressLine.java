package dev.sisma.api.cli;

import java.io.PrintStream;
import java.time.Duration;
import java.util.function.LongSupplier;

/**
 * A progress line for long commands. On a terminal every update rewrites the same line
 * ({@code \r}, then the line, then erase-to-end); elsewhere (a pipe, a CI log, {@code | tee}) the
 * first update, then one update per {@link #interval()} and the last one are printed as whole lines,
 * so a log shows the job moving without thousands of lines.
 *
 * <pre>
 * ProgressLine line = ProgressLine.forStderr(ctx.err());
 * for (int i = 1; i &lt;= n; i++) {
 *     work();
 *     if (line.due(i == n)) {
 *         line.print("step " + i + "/" + n, i == n);
 *     }
 * }
 * </pre>
 *
 * <p>Not thread-safe: one job reports through it.
 */
public final class ProgressLine {
    /** How often a non-terminal gets a line: every few seconds. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(5);
    /**
     * System properties the {@code ./sisma} script sets to {@code true} or {@code false} from the
     * shell's own test of file descriptors 1 and 2 (the JVM cannot see that by itself: its stderr is a
     * pipe through the script's filter).
     */
    public static final String STDOUT_TERMINAL = "sisma.stdout.terminal", STDERR_TERMINAL = "sisma.stderr.terminal";

    private final PrintStream stream;
    private final boolean terminal;
    private final long intervalNanos;
    private final LongSupplier nanoClock;
    private boolean printedAny;
    private long lastPrinted;
    private boolean open;

    /**
     * @param stream    where the lines go
     * @param terminal  true to rewrite one line in place, false for whole lines, throttled
     * @param interval  the least time between two lines when not a terminal
     * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; tests pass their own)
     */
    public ProgressLine(PrintStream stream, boolean terminal, Duration interval, LongSupplier nanoClock) {
        if (interval.isNegative()) {
            throw new IllegalArgumentException("interval must be >= 0, got " + interval);
        }
        this.stream = stream;
        this.terminal = terminal;
        this.intervalNanos = interval.toNanos();
        this.nanoClock = nanoClock;
    }

    /** For standard error, every {@link #DEFAULT_INTERVAL} when it is not a terminal. */
    public static ProgressLine forStderr(PrintStream stream) {
        return new ProgressLine(stream, isTerminal(STDERR_TERMINAL), DEFAULT_INTERVAL, System::nanoTime);
    }

    /** For standard output, every {@link #DEFAULT_INTERVAL} when it is not a terminal. */
    public static ProgressLine forStdout(PrintStream stream) {
        return new ProgressLine(stream, isTerminal(STDOUT_TERMINAL), DEFAULT_INTERVAL, System::nanoTime);
    }

    /**
     * Whether the stream the property {@code property} describes is a terminal: the property's value
     * when it is set, else whether the JVM has an interactive console.
     */
    public static boolean isTerminal(String property) {
        String v = System.getProperty(property);
        if (v != null && !v.isBlank()) {
            return Boolean.parseBoolean(v.trim());
        }
        java.io.Console c = System.console();
        return c != null && c.isTerminal();
    }

    /** True when lines are rewritten in place. */
    public boolean terminal() {
        return terminal;
    }

    /** The least time between two lines when not a terminal. */
    public Duration interval() {
        return Duration.ofNanos(intervalNanos);
    }

    /**
     * Whether {@link #print} would print now: always on a terminal and for the last update;
     * otherwise for the first update and once {@link #interval()} has passed since the last line.
     * Lets a caller skip formatting a line nobody will see.
     */
    public boolean due(boolean last) {
        return terminal || last || !printedAny || nanoClock.getAsLong() - lastPrinted >= intervalNanos;
    }

    /**
     * Offers one update; prints it when {@link #due} says so.
     *
     * @param line the whole progress line, without line end
     * @param last true for the job's final update (ends the terminal's line)
     * @return whether it was printed
     */
    public boolean print(String line, boolean last) {
        if (!due(last)) {
            return false;
        }
        if (terminal) {
            stream.print("\r" + line + "\u001b[K" + (last ? System.lineSeparator() : ""));
            open = !last;
        } else {
            stream.println(line);
        }
        stream.flush();
        printedAny = true;
        lastPrinted = nanoClock.getAsLong();
        return true;
    }

    /**
     * Ends a rewritten line that did not get its last update (the job stopped early), so the next
     * output starts on a line of its own; nothing otherwise.
     */
    public void finish() {
        if (terminal && open) {
            stream.println();
            stream.flush();
            open = false;
        }
    }
}
