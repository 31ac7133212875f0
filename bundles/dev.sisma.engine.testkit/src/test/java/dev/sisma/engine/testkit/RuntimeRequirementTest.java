package dev.sisma.engine.testkit;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.opentest4j.TestAbortedException;

class RuntimeRequirementTest {
    @Test
    void presentRuntimePasses() {
        RuntimeRequirement.require(true, "anything");
    }

    @Test
    void missingRuntimeFailsInCiAndSkipsElsewhere() {
        Class<? extends Throwable> expected = RuntimeRequirement.inCi() ? AssertionFailedError.class : TestAbortedException.class;
        assertThrows(expected, () -> RuntimeRequirement.require(false, "an OpenCL device"));
    }
}
