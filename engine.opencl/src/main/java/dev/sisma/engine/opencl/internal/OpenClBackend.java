package dev.sisma.engine.opencl.internal;

import org.jocl.cl_mem;

import dev.sisma.engine.gpu.GpuBackend;

/**
 * The SPI on one OpenCL device: {@link GpuBackend} (shared with the CUDA backend) over a
 * {@link ClRuntime}. What is OpenCL's own here: opening a device by platform and device index and
 * the names {@code opencl} / {@code opencl:P:D}.
 */
public final class OpenClBackend extends GpuBackend<cl_mem> {
    private final ClRuntime rt;

    OpenClBackend(ClRuntime rt) {
        this(rt, "opencl");
    }

    OpenClBackend(ClRuntime rt, String name) {
        super(rt, name);
        this.rt = rt;
    }

    /** Opens the configured device (indices -1 = automatic), or says why it cannot. */
    public static OpenClBackend open(int platform, int device) throws ClRuntime.Unavailable {
        return new OpenClBackend(ClRuntime.open(platform, device));
    }

    /** Opens platform {@code platform}, device {@code device} (both >= 0) under the name {@code opencl:P:D}. */
    public static OpenClBackend openQualified(int platform, int device) throws ClRuntime.Unavailable {
        return new OpenClBackend(ClRuntime.open(platform, device), qualifiedName(platform, device));
    }

    /** The name a device answers to whether or not it is the default: {@code opencl:P:D}. */
    public static String qualifiedName(int platform, int device) {
        return "opencl:" + platform + ":" + device;
    }

    /** {@code opencl:P:D} of this device. */
    public String qualifiedName() {
        return qualifiedName(rt.info.platformIndex(), rt.info.deviceIndex());
    }

    ClRuntime runtime() {
        return rt;
    }

    /** True for a GPU (ranking 20), false for a CPU or other device (ranking -10). */
    public boolean isGpu() {
        return rt.info.gpu();
    }

    @Override
    public String device() {
        return rt.info.toString();
    }
}
