package dev.sisma.engine.cuda.internal;

import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR;
import static jcuda.driver.CUdevice_attribute.CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT;
import static jcuda.driver.CUresult.*;
import static jcuda.driver.JCudaDriver.*;

import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;

import jcuda.Pointer;
import jcuda.driver.CUcontext;
import jcuda.driver.CUdevice;
import jcuda.driver.CUdeviceptr;
import jcuda.driver.CUfunction;
import jcuda.driver.CUmodule;
import jcuda.driver.CUresult;
import jcuda.driver.CUstream;
import jcuda.driver.JCudaDriver;

import dev.sisma.engine.gpu.GpuBuffer;
import dev.sisma.engine.gpu.GpuDevice;
import dev.sisma.engine.spi.BufferPool;

/**
 * One CUDA device in use through JCuda's driver API, the {@link GpuDevice} of {@link CudaBackend}:
 * the device's primary context, one stream, the kernel module loaded from the carried fatbin,
 * launches, and device memory with a pool. Needs only the driver (libcuda.so.1), no toolkit.
 *
 * <p>Launches go to the stream; copies are synchronous driver calls on the legacy default stream,
 * which the stream (created blocking) is ordered with, so a read sees every earlier launch done
 * and a launch sees every earlier write. Every failed call leaves as a {@link CudaException};
 * sticky errors (an illegal address, a failed launch, ECC) mark the runtime lost and every later
 * call fails fast with the first cause. (engine.opencl's ClRuntime is the same for OpenCL.)
 */
final class CuRuntime implements GpuDevice<CUdeviceptr> {
    /** Why no usable device could be opened: one line, shown by {@code sisma info}. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;
        /** True when the machine has no CUDA driver or no GPU (the only reason the CUDA tests may skip). */
        final boolean noHardware;

        Unavailable(String reason) {
            this(reason, false);
        }

        Unavailable(String reason, boolean noHardware) {
            super(reason, null, false, false);
            this.noHardware = noHardware;
        }
    }

    /** A device allocation whose address cuBLAS can be given (JCuda keeps it protected). */
    static final class DevPtr extends CUdeviceptr {
        long address() {
            return getNativePointer();
        }
    }

    /** The stream, with the handle cuBLAS is given. */
    static final class Stream extends CUstream {
        long handle() {
            return getNativePointer();
        }
    }

    /** The device's description, read once. */
    record DeviceInfo(int ordinal, String name, int major, int minor, int multiprocessors, long totalMem, int driverVersion) {
        String arch() {
            return "sm_" + major + minor;
        }

        @Override
        public String toString() {
            return name + " (CUDA driver " + driverVersion / 1000 + "." + driverVersion % 1000 / 10 + ", " + arch() + ", "
                    + multiprocessors + " SMs, " + (totalMem >> 20) + " MiB, device " + ordinal + ")";
        }
    }

    /** CUDA_ERROR_INSUFFICIENT_DRIVER (JCuda's CUresult lacks the constant). */
    private static final int INSUFFICIENT_DRIVER = 35;

    final DeviceInfo info;
    private final int wg;
    private final CUdevice device;
    private final CUcontext context;
    final Stream stream;
    private final CUmodule module;
    private final Map<String, CUfunction> functions = new HashMap<>();
    final BufferPool<CUdeviceptr> pool;
    private volatile String lost;
    /** Device memory in use (all processes, cuMemGetInfo) after the fullest allocation since {@link #resetPeak}. */
    private long peakUsed;

    private CuRuntime(DeviceInfo info, CUdevice device, KernelBinary.Image image) throws Unavailable {
        this.info = info;
        this.device = device;
        this.wg = image.rowGroup();
        context = new CUcontext();
        int r = cuDevicePrimaryCtxRetain(context, device);
        if (r != CUDA_SUCCESS) throw new Unavailable("CUDA device " + info + ": cannot retain its primary context (" + CUresult.stringFor(r) + ")");
        cuCtxSetCurrent(context);
        stream = new Stream();
        module = new CUmodule();
        r = cuStreamCreate(stream, 0); // blocking: ordered with the legacy default stream the copies run on
        if (r == CUDA_SUCCESS) r = cuModuleLoadData(module, image.fatbin());
        if (r != CUDA_SUCCESS) {
            cuDevicePrimaryCtxRelease(device);
            throw new Unavailable(r == CUDA_ERROR_NO_BINARY_FOR_GPU || r == CUDA_ERROR_UNSUPPORTED_PTX_VERSION
                    ? "CUDA device " + info.name + " (" + info.arch() + ") cannot run the carried kernels (nvcc " + image.nvcc()
                            + ", SASS sm_80 sm_90, PTX compute_90): " + CUresult.stringFor(r) + "; a GPU of sm_80 or newer and a driver "
                            + "at least as new as that nvcc are needed"
                    : "CUDA device " + info.name + ": cannot load the kernels (" + CUresult.stringFor(r) + ")");
        }
        pool = new BufferPool<>(new BufferPool.Memory<>() {
            @Override public CUdeviceptr create(long bytes) { return createBuffer(bytes); }
            @Override public void release(CUdeviceptr m) { CuRuntime.this.release(m); }
        }, Math.min(info.totalMem / 4, 4L << 30));
    }

    // ------------------------------------------------------------------ discovery

    /** Initialises the driver and counts the devices; a missing driver or none becomes {@link Unavailable}. */
    static int deviceCount() throws Unavailable {
        int r;
        int[] n = new int[1];
        try {
            JCudaDriver.setExceptionsEnabled(false); // results are translated in one place (fail)
            r = cuInit(0);
            if (r == CUDA_SUCCESS) r = cuDeviceGetCount(n);
        } catch (LinkageError e) {
            if (!driverLoads()) throw new Unavailable("no CUDA driver (libcuda.so.1 not found): install the NVIDIA driver", true);
            throw new Unavailable("JCuda's driver binding did not load though libcuda.so.1 is present (" + firstLine(e) + ")");
        }
        if (r == CUDA_ERROR_NO_DEVICE || (r == CUDA_SUCCESS && n[0] == 0)) throw new Unavailable("no CUDA device (the NVIDIA driver found no GPU)", true);
        if (r == INSUFFICIENT_DRIVER) throw new Unavailable("the NVIDIA driver is too old for CUDA 12 (CUDA_ERROR_INSUFFICIENT_DRIVER)");
        if (r != CUDA_SUCCESS) throw new Unavailable("the CUDA driver did not start (" + CUresult.stringFor(r) + ")");
        return n[0];
    }

    /** Whether the NVIDIA driver library loads, asked without JCuda (whose failure does not say which library was missing). */
    static boolean driverLoads() {
        try (java.lang.foreign.Arena a = java.lang.foreign.Arena.ofConfined()) {
            java.lang.foreign.SymbolLookup.libraryLookup("libcuda.so.1", a);
            return true;
        } catch (IllegalArgumentException | IllegalCallerException e) {
            return false;
        }
    }

    private static String firstLine(Throwable e) {
        String m = String.valueOf(e.getMessage());
        int nl = m.indexOf('\n');
        return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
    }

    /** Opens device {@code ordinal} (cuDeviceGet order, as nvidia-smi lists them by default) with the kernels of {@code image}. */
    static CuRuntime open(int ordinal, KernelBinary.Image image) throws Unavailable {
        int count = deviceCount();
        if (ordinal < 0 || ordinal >= count) {
            throw new Unavailable("configured CUDA device " + ordinal + " does not exist (" + count
                    + " device(s), indices from 0); fix PID dev.sisma.engine.cuda, property device");
        }
        if (image == null) {
            throw new Unavailable("this build carries no CUDA kernels (nvcc was not found when engine.cuda was built); "
                    + "rebuild it where nvcc is on the PATH");
        }
        CUdevice d = new CUdevice();
        int r = cuDeviceGet(d, ordinal);
        if (r != CUDA_SUCCESS) throw new Unavailable("CUDA device " + ordinal + ": " + CUresult.stringFor(r));
        byte[] name = new byte[256];
        int[] major = new int[1], minor = new int[1], sms = new int[1], driver = new int[1];
        long[] mem = new long[1];
        cuDeviceGetName(name, name.length, d);
        cuDeviceGetAttribute(major, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR, d);
        cuDeviceGetAttribute(minor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR, d);
        cuDeviceGetAttribute(sms, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT, d);
        cuDeviceTotalMem(mem, d);
        cuDriverGetVersion(driver);
        int len = 0;
        while (len < name.length && name[len] != 0) len++;
        DeviceInfo info = new DeviceInfo(ordinal, new String(name, 0, len, java.nio.charset.StandardCharsets.UTF_8).strip(),
                major[0], minor[0], sms[0], mem[0], driver[0]);
        return new CuRuntime(info, d, image);
    }

    // ------------------------------------------------------------------ errors

    private void checkAlive() {
        String l = lost;
        if (l != null) {
            throw new CudaException(CudaException.Kind.DEVICE_LOST, CUDA_ERROR_ILLEGAL_ADDRESS, "CUDA device " + info.name
                    + " was lost earlier (" + l + "); reconfigure PID dev.sisma.engine.cuda to re-open it, or use another backend");
        }
    }

    /** Errors after which the context is unusable (CUDA's sticky errors). */
    private static boolean sticky(int r) {
        return r == CUDA_ERROR_ILLEGAL_ADDRESS || r == CUDA_ERROR_LAUNCH_FAILED || r == CUDA_ERROR_ECC_UNCORRECTABLE
                || r == CUDA_ERROR_HARDWARE_STACK_ERROR || r == CUDA_ERROR_ILLEGAL_INSTRUCTION || r == CUDA_ERROR_MISALIGNED_ADDRESS
                || r == CUDA_ERROR_INVALID_ADDRESS_SPACE || r == CUDA_ERROR_INVALID_PC || r == CUDA_ERROR_LAUNCH_TIMEOUT
                || r == CUDA_ERROR_CONTEXT_IS_DESTROYED;
    }

    /** Translates a failed result into a {@link CudaException} naming what was being done. */
    CudaException fail(String what, int r) {
        String code = CUresult.stringFor(r);
        if (r == CUDA_ERROR_OUT_OF_MEMORY) {
            return new CudaException(CudaException.Kind.OUT_OF_MEMORY, r, "CUDA device " + info.name + " ran out of memory (" + code
                    + ") " + what + "; " + (pool.liveBytes() >> 20) + " MiB in use of " + (info.totalMem >> 20)
                    + " MiB: use a smaller batch or image size");
        }
        if (sticky(r)) {
            lost = code + " " + what;
            return new CudaException(CudaException.Kind.DEVICE_LOST, r, "CUDA device " + info.name + " failed (" + code + ") " + what
                    + " (a kernel's fault may surface at a later call); the cuda backend stops, reconfigure it or use another backend");
        }
        return new CudaException(CudaException.Kind.OTHER, r, "CUDA call failed (" + code + ") " + what + " on " + info.name);
    }

    private void check(int r, String what) {
        if (r != CUDA_SUCCESS) throw fail(what, r);
    }

    /** Makes the context current on the calling thread (CUDA contexts are per thread). */
    private void enter() {
        checkAlive();
        check(cuCtxSetCurrent(context), "making the context current");
    }

    // ------------------------------------------------------------------ GpuDevice

    @Override
    public int rowGroup() {
        return wg;
    }

    @Override
    public BufferPool<CUdeviceptr> pool() {
        return pool;
    }

    /** A new allocation; on failure the pool is emptied and it is tried once more. */
    @Override
    public synchronized CUdeviceptr createBuffer(long bytes) {
        enter();
        DevPtr p = new DevPtr();
        int r = cuMemAlloc(p, Math.max(bytes, 4));
        if (r == CUDA_ERROR_OUT_OF_MEMORY && pool.trim(0) > 0) r = cuMemAlloc(p, Math.max(bytes, 4));
        check(r, "allocating " + bytes + " bytes");
        peakUsed = Math.max(peakUsed, usedBytes()); // usage only grows at allocations: this is the high-water mark
        return p;
    }

    /** Device memory in use now, by every process and context (total - free). */
    synchronized long usedBytes() {
        enter();
        long[] free = new long[1], total = new long[1];
        check(cuMemGetInfo(free, total), "reading the memory in use");
        return total[0] - free[0];
    }

    /** The high-water mark of {@link #usedBytes} since the last reset (for benchmarks). */
    synchronized long peakUsedBytes() {
        return Math.max(peakUsed, usedBytes());
    }

    synchronized void resetPeak() {
        peakUsed = usedBytes();
    }

    @Override
    public synchronized void release(CUdeviceptr m) {
        if (lost != null) return; // a lost context frees nothing more
        cuCtxSetCurrent(context);
        cuMemFree(m); // cannot be retried; a failure here surfaces at the next call
    }

    @Override
    public synchronized void write(CUdeviceptr dst, long byteOffset, float[] src, int from, int count) {
        enter();
        check(cuMemcpyHtoD(dst.withByteOffset(byteOffset), Pointer.to(src).withByteOffset(from * 4L), count * 4L),
                "uploading " + count * 4L + " bytes");
    }

    @Override
    public synchronized void write(CUdeviceptr dst, int[] src) {
        enter();
        check(cuMemcpyHtoD(dst, Pointer.to(src), src.length * 4L), "uploading " + src.length * 4L + " bytes");
    }

    @Override
    public synchronized void write(CUdeviceptr dst, long byteOffset, ByteBuffer src) {
        enter();
        check(cuMemcpyHtoD(dst.withByteOffset(byteOffset), Pointer.to(src), src.remaining()), "uploading " + src.remaining() + " bytes");
    }

    @Override
    public synchronized void read(CUdeviceptr src, long byteOffset, float[] dst, int from, int count) {
        enter();
        check(cuMemcpyDtoH(Pointer.to(dst).withByteOffset(from * 4L), src.withByteOffset(byteOffset), count * 4L),
                "downloading " + count * 4L + " bytes");
    }

    @Override
    public synchronized void read(CUdeviceptr src, long byteOffset, ByteBuffer dst) {
        enter();
        check(cuMemcpyDtoH(Pointer.to(dst), src.withByteOffset(byteOffset), dst.remaining()), "downloading " + dst.remaining() + " bytes");
    }

    /** Waits for the whole context: the stream and anything on the default stream. */
    @Override
    public synchronized void finish() {
        enter();
        check(cuCtxSynchronize(), "waiting for the device");
    }

    private CUfunction function(String name) {
        CUfunction f = functions.get(name);
        if (f == null) {
            f = new CUfunction();
            int r = cuModuleGetFunction(f, module, name);
            if (r == CUDA_ERROR_NOT_FOUND) throw new IllegalArgumentException("no kernel " + name + " in the CUDA kernels");
            check(r, "looking up kernel " + name);
            functions.put(name, f);
        }
        return f;
    }

    /** Grid = global rounded up to whole blocks of {@code local}; y and z are limited to 65535 blocks. */
    @Override
    public synchronized void launch(String name, long[] global, long[] local, Object... args) {
        enter();
        for (long g : global) {
            if (g == 0) return;
        }
        int[] grid = {1, 1, 1}, block = {1, 1, 1};
        for (int d = 0; d < global.length; d++) {
            block[d] = (int) local[d];
            long blocks = (global[d] + local[d] - 1) / local[d];
            if (blocks > (d == 0 ? Integer.MAX_VALUE : 65535)) {
                throw new IllegalArgumentException("kernel " + name + ": " + blocks + " blocks along dimension " + d
                        + " exceed CUDA's grid limit");
            }
            grid[d] = (int) blocks;
        }
        Pointer[] params = new Pointer[args.length];
        for (int i = 0; i < args.length; i++) {
            params[i] = switch (args[i]) {
                case GpuBuffer<?> b -> Pointer.to((CUdeviceptr) b.mem());
                case CUdeviceptr p -> Pointer.to(p);
                case Integer v -> Pointer.to(new int[] {v});
                case Long v -> Pointer.to(new long[] {v});
                case Float v -> Pointer.to(new float[] {v});
                case byte[] v -> Pointer.to(v);
                default -> throw new IllegalArgumentException("kernel argument " + args[i]);
            };
        }
        check(cuLaunchKernel(function(name), grid[0], grid[1], grid[2], block[0], block[1], block[2], 0, stream,
                Pointer.to(params), null), "running kernel " + name);
    }

    /** Runs {@code work} (a library call such as cuBLAS's, queued on {@link #stream}) with the context current, in launch order. */
    synchronized void onStream(Runnable work) {
        enter();
        work.run();
    }

    @Override
    public synchronized void close() {
        pool.close();
        if (lost == null) {
            cuCtxSetCurrent(context);
            cuCtxSynchronize();
        }
        cuModuleUnload(module);
        cuStreamDestroy(stream);
        functions.clear();
        cuDevicePrimaryCtxRelease(device);
    }
}
