package dev.sisma.engine.opencl.internal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.jocl.CL;
import org.jocl.CLException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.engine.testkit.RuntimeRequirement;

/** Failures become clear exceptions for the call that hit them; the backend (and the JVM) keeps going. */
class OpenClErrorsTest {
    private static OpenClBackend ocl;

    @BeforeAll
    static void open() {
        try {
            ocl = OpenClBackend.open(-1, -1);
        } catch (ClRuntime.Unavailable | LinkageError e) {
            // require() reports it
        }
    }

    @AfterAll
    static void close() {
        if (ocl != null) ocl.close();
    }

    private static void require() {
        RuntimeRequirement.require(ocl != null, "an OpenCL device (apt-get install pocl-opencl-icd ocl-icd-libopencl1)");
    }

    private static void stillWorks(OpenClBackend b) {
        try (DeviceBuffer x = b.upload(new float[] {1, 2, 3})) {
            float[] out = new float[3];
            b.download(x, 0, out, 0, 3);
            assertArrayEquals(new float[] {1, 2, 3}, out);
        }
    }

    @Test
    void anAllocationBeyondTheDeviceIsAClearOutOfMemoryError() {
        require();
        long tooMany = ocl.runtime().info.maxAlloc() / 4 + 1024;
        OpenClException e = assertThrows(OpenClException.class, () -> ocl.allocate(tooMany));
        assertEquals(OpenClException.Kind.OUT_OF_MEMORY, e.kind());
        assertTrue(e.getMessage().contains("exceeds the largest allocation"), e.getMessage());
        stillWorks(ocl);
    }

    @Test
    void aKernelBuildFailureReportsTheBuildLog() {
        require();
        ClRuntime.Unavailable e = assertThrows(ClRuntime.Unavailable.class,
                () -> ocl.runtime().compileOnly("__kernel void broken(__global float *x) { x[0] = undeclared_name; }"));
        assertTrue(e.getMessage().startsWith("kernel build failed on "), e.getMessage());
        assertTrue(e.getMessage().contains("CL_BUILD_PROGRAM_FAILURE"), e.getMessage());
        assertTrue(e.getMessage().contains("undeclared_name"), "the log's first lines: " + e.getMessage());
        stillWorks(ocl);
    }

    @Test
    void outOfResourcesFromTheDriverNamesTheJob() {
        require();
        OpenClException e = ocl.runtime().fail("running kernel sk_gemm", new CLException("", CL.CL_OUT_OF_RESOURCES));
        assertEquals(OpenClException.Kind.OUT_OF_MEMORY, e.kind());
        assertTrue(e.getMessage().contains("CL_OUT_OF_RESOURCES") && e.getMessage().contains("sk_gemm"), e.getMessage());
        stillWorks(ocl); // not fatal: the next job runs
    }

    @Test
    void aLostDeviceFailsFastAndTheOtherBackendInstancesKeepRunning() throws Exception {
        require();
        try (OpenClBackend doomed = OpenClBackend.open(-1, -1)) {
            OpenClException lost = doomed.runtime().fail("running kernel sk_scan_fwd", new CLException("", CL.CL_INVALID_COMMAND_QUEUE));
            assertEquals(OpenClException.Kind.DEVICE_LOST, lost.kind());
            OpenClException next = assertThrows(OpenClException.class, () -> doomed.allocate(4));
            assertEquals(OpenClException.Kind.DEVICE_LOST, next.kind());
            assertTrue(next.getMessage().contains("was lost earlier") && next.getMessage().contains("sk_scan_fwd"), next.getMessage());
        }
        stillWorks(ocl);
    }

    @Test
    void buffersFromAnotherBackendAndClosedBuffersAreRejected() {
        require();
        DeviceBuffer x = ocl.allocate(8);
        x.close();
        x.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> ocl.fill(x, 0, 8, 1f));
        DeviceBuffer small = ocl.allocate(4);
        assertThrows(IndexOutOfBoundsException.class, () -> ocl.fill(small, 2, 4, 1f));
        small.close();
    }

    @Test
    void aRepeatedStepAllocatesNoNewDeviceMemory() {
        require();
        Runnable step = () -> {
            java.util.List<DeviceBuffer> live = new java.util.ArrayList<>();
            java.util.function.LongFunction<DeviceBuffer> alloc = n -> {
                DeviceBuffer x = ocl.allocate(n);
                live.add(x);
                return x;
            };
            int ble = 2 * 16 * 64, bln = 2 * 16 * 4;
            DeviceBuffer a = alloc.apply(3000), b = alloc.apply(5000), d = alloc.apply(ble), am = alloc.apply(64 * 4),
                    bm = alloc.apply(bln);
            ocl.gemm(false, true, 1, 30, 50, 100, 1f, a, 0, b, 0, 0f, a, null);
            ocl.affine(d, d, d.size(), 0f, 0.1f);
            ocl.selectiveScanBackward(alloc.apply(ble), d, am, bm, bm, null, alloc.apply(ble), alloc.apply(ble),
                    alloc.apply(ble), alloc.apply(64 * 4), alloc.apply(bln), alloc.apply(bln), null, 2, 16, 64, 4);
            live.forEach(DeviceBuffer::close);
        };
        step.run();
        ocl.finish();
        long created = ocl.buffersCreated();
        for (int i = 0; i < 5; i++) step.run();
        ocl.finish();
        assertEquals(created, ocl.buffersCreated(), "clCreateBuffer calls after the first step");
    }
}
