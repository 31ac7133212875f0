package dev.sisma.engine.testkit;

import org.junit.jupiter.api.Assertions;
import org.junit.jupiter.api.Assumptions;

/**
 * For tests that need a runtime (an OpenCL device, a display): in CI ({@code CI=true}) a missing
 * runtime FAILS the test, so a broken CI image cannot pass silently; elsewhere the test is skipped.
 */
public final class RuntimeRequirement {
    private RuntimeRequirement() {}

    /** True when the environment variable CI is "true" (case-insensitive). */
    public static boolean inCi() {
        return "true".equalsIgnoreCase(System.getenv("CI"));
    }

    /** Fails (under CI=true) or skips (otherwise) unless {@code available}; {@code what} names the runtime. */
    public static void require(boolean available, String what) {
        if (available) return;
        if (inCi()) Assertions.fail("required runtime missing in CI: " + what);
        Assumptions.abort("runtime missing, test skipped: " + what);
    }
}
