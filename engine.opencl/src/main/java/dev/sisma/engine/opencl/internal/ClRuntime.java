package dev.sisma.engine.opencl.internal;

import static org.jocl.CL.*;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.jocl.CL;
import org.jocl.CLException;
import org.jocl.Pointer;
import org.jocl.Sizeof;
import org.jocl.cl_command_queue;
import org.jocl.cl_context;
import org.jocl.cl_context_properties;
import org.jocl.cl_device_id;
import org.jocl.cl_kernel;
import org.jocl.cl_mem;
import org.jocl.cl_platform_id;
import org.jocl.cl_program;

import dev.sisma.engine.gpu.GpuBuffer;
import dev.sisma.engine.gpu.GpuDevice;
import dev.sisma.engine.spi.BufferPool;

/**
 * One OpenCL device in use, the {@link GpuDevice} of {@link OpenClBackend}: its context, in-order
 * command queue, the kernel program built from source, kernel launches and buffer memory with a
 * pool. Every OpenCL failure leaves here as an {@link OpenClException}; failures that mean the
 * device is gone mark the runtime lost, and every later call fails fast with the first cause.
 * (engine.cuda's CuRuntime is the same for CUDA.)
 */
final class ClRuntime implements GpuDevice<cl_mem> {
    /** Why no usable device could be opened: one line, shown by {@code sisma info}. */
    static final class Unavailable extends Exception {
        private static final long serialVersionUID = 1L;

        Unavailable(String reason) {
            super(reason, null, false, false);
        }
    }

    /** The device's description, read once. */
    record DeviceInfo(int platformIndex, int deviceIndex, String platform, String platformVersion, String name,
                      long type, long globalMem, long maxAlloc, long maxWorkGroup, int computeUnits, boolean fp64) {
        boolean gpu() {
            return (type & CL_DEVICE_TYPE_GPU) != 0;
        }

        String typeName() {
            return (type & CL_DEVICE_TYPE_GPU) != 0 ? "GPU"
                    : (type & CL_DEVICE_TYPE_ACCELERATOR) != 0 ? "accelerator" : (type & CL_DEVICE_TYPE_CPU) != 0 ? "CPU" : "device";
        }

        @Override
        public String toString() {
            // PoCL's version string runs on with build flags: keep the part before the first comma
            String version = platformVersion.split(",")[0].replaceAll("\\s+", " ").strip();
            return name + " (" + version + ", " + typeName() + ", " + computeUnits + " compute units, "
                    + (globalMem >> 20) + " MiB, platform " + platformIndex + " device " + deviceIndex + ")";
        }
    }

    final DeviceInfo info;
    /** Local size of the row kernels (a power of two), compiled into the program as SK_WG. */
    final int wg;
    private final cl_context context;
    private final cl_command_queue queue;
    private final cl_program program;
    private final cl_device_id device;
    private final Map<String, cl_kernel> kernels = new HashMap<>();
    final BufferPool<cl_mem> pool;
    private volatile String lost;

    static {
        // Status codes become CLExceptions, translated in one place (fail()).
        CL.setExceptionsEnabled(true);
    }

    private ClRuntime(DeviceInfo info, cl_platform_id platform, cl_device_id device) throws Unavailable {
        this.info = info;
        this.device = device;
        this.wg = (int) Math.min(256, Long.highestOneBit(info.maxWorkGroup));
        if (info.maxWorkGroup < 256) {
            throw new Unavailable("OpenCL device " + info.name + " allows work-groups of " + info.maxWorkGroup
                    + " work-items; the kernels need 256");
        }
        cl_context_properties props = new cl_context_properties();
        props.addProperty(CL_CONTEXT_PLATFORM, platform);
        try {
            context = clCreateContext(props, 1, new cl_device_id[] {device}, null, null, null);
            queue = clCreateCommandQueue(context, device, 0, null);
        } catch (CLException e) {
            throw new Unavailable("OpenCL device " + info.name + ": cannot create a context (" + e.getMessage() + ")");
        }
        String options = "-cl-std=CL1.2 -DSK_WG=" + wg + (info.fp64 ? " -DSK_FP64" : "");
        program = build(context, device, KernelSource.program(), options, info.name);
        // Every kernel of the program, by its function name (no list to keep in step with the sources).
        int[] count = new int[1];
        clCreateKernelsInProgram(program, 0, null, count);
        cl_kernel[] all = new cl_kernel[count[0]];
        clCreateKernelsInProgram(program, count[0], all, null);
        for (cl_kernel k : all) kernels.put(kernelName(k), k);
        pool = new BufferPool<>(new BufferPool.Memory<>() {
            @Override public cl_mem create(long bytes) { return createBuffer(bytes); }
            @Override public void release(cl_mem m) { ClRuntime.this.release(m); }
        }, Math.min(info.globalMem / 4, 2L << 30));
    }

    private static String kernelName(cl_kernel k) {
        long[] size = new long[1];
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetKernelInfo(k, CL_KERNEL_FUNCTION_NAME, b.length, Pointer.to(b), null);
        return new String(b, 0, Math.max(0, b.length - 1), java.nio.charset.StandardCharsets.UTF_8);
    }

    @Override
    public int rowGroup() {
        return wg;
    }

    @Override
    public BufferPool<cl_mem> pool() {
        return pool;
    }

    /** Compiles the program; a failure becomes {@link Unavailable} with the first lines of the build log. */
    static cl_program build(cl_context context, cl_device_id device, String source, String options, String deviceName)
            throws Unavailable {
        cl_program p = clCreateProgramWithSource(context, 1, new String[] {source}, null, null);
        try {
            clBuildProgram(p, 1, new cl_device_id[] {device}, options, null, null);
            return p;
        } catch (CLException e) {
            String log = buildLog(p, device);
            clReleaseProgram(p);
            throw new Unavailable("kernel build failed on " + deviceName + " (" + CL.stringFor_errorCode(e.getStatus())
                    + "): " + firstLines(log, 6));
        }
    }

    /** Builds another program on this device and releases it: the build-failure path, for tests. */
    void compileOnly(String source) throws Unavailable {
        clReleaseProgram(build(context, device, source, "-cl-std=CL1.2", info.name));
    }

    static String buildLog(cl_program p, cl_device_id device) {
        try {
            long[] size = new long[1];
            clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, 0, null, size);
            byte[] b = new byte[(int) size[0]];
            clGetProgramBuildInfo(p, device, CL_PROGRAM_BUILD_LOG, b.length, Pointer.to(b), null);
            return new String(b, 0, Math.max(0, b.length - 1), java.nio.charset.StandardCharsets.UTF_8);
        } catch (CLException e) {
            return "(no build log: " + e.getMessage() + ")";
        }
    }

    static String firstLines(String log, int n) {
        List<String> lines = new ArrayList<>();
        for (String l : log.split("\n")) {
            if (!l.isBlank()) lines.add(l.strip());
            if (lines.size() == n) break;
        }
        return lines.isEmpty() ? "(empty build log)" : String.join(" | ", lines);
    }

    // ------------------------------------------------------------------ device discovery

    /**
     * Opens the configured device: {@code platform}, {@code device} indices (clinfo -l order), or
     * -1 for automatic: the first GPU of any platform, else the first device of any kind.
     */
    static ClRuntime open(int platformIndex, int deviceIndex) throws Unavailable {
        int[] n = new int[1];
        cl_platform_id[] platforms;
        try {
            clGetPlatformIDs(0, null, n);
            platforms = new cl_platform_id[n[0]];
            if (n[0] > 0) clGetPlatformIDs(n[0], platforms, null);
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            throw new Unavailable("no OpenCL ICD loader (libOpenCL.so.1): install ocl-icd-libopencl1 and a driver, "
                    + "e.g. pocl-opencl-icd (" + e.getMessage() + ")");
        } catch (CLException e) {
            // -1001 CL_PLATFORM_NOT_FOUND_KHR: the ICD loader found no installed driver.
            throw new Unavailable("no OpenCL platform: the ICD loader found no driver (" + e.getMessage()
                    + "); install one, e.g. pocl-opencl-icd");
        }
        if (platforms.length == 0) {
            throw new Unavailable("no OpenCL platform: install a driver, e.g. pocl-opencl-icd");
        }
        if (platformIndex >= platforms.length) {
            throw new Unavailable("configured OpenCL platform " + platformIndex + " does not exist (" + platforms.length
                    + " platform(s), indices from 0); fix PID dev.sisma.engine.opencl, property platform");
        }
        // Candidates in order: the configured platform only, or all platforms; GPUs first when automatic.
        List<cl_device_id[]> perPlatform = new ArrayList<>();
        for (cl_platform_id p : platforms) {
            perPlatform.add(devices(p));
        }
        if (platformIndex >= 0) {
            cl_device_id[] ds = perPlatform.get(platformIndex);
            if (ds.length == 0) {
                throw new Unavailable("OpenCL platform " + platformIndex + " (" + platformString(platforms[platformIndex], CL_PLATFORM_NAME)
                        + ") has no device");
            }
            if (deviceIndex >= ds.length) {
                throw new Unavailable("configured OpenCL device " + deviceIndex + " does not exist on platform " + platformIndex
                        + " (" + ds.length + " device(s)); fix PID dev.sisma.engine.opencl, property device");
            }
            int d = deviceIndex >= 0 ? deviceIndex : firstGpu(ds);
            return new ClRuntime(describe(platformIndex, d, platforms[platformIndex], ds[d]), platforms[platformIndex], ds[d]);
        }
        if (deviceIndex >= 0) {
            throw new Unavailable("OpenCL device " + deviceIndex + " is configured without a platform; set property platform too");
        }
        for (int pass = 0; pass < 2; pass++) {
            for (int p = 0; p < platforms.length; p++) {
                cl_device_id[] ds = perPlatform.get(p);
                for (int d = 0; d < ds.length; d++) {
                    if (pass == 1 || (deviceLong(ds[d], CL_DEVICE_TYPE) & CL_DEVICE_TYPE_GPU) != 0) {
                        return new ClRuntime(describe(p, d, platforms[p], ds[d]), platforms[p], ds[d]);
                    }
                }
            }
        }
        throw new Unavailable("no OpenCL device on " + platforms.length + " platform(s)");
    }

    /**
     * Every device as {platform, device} index pairs in clinfo -l order; empty when there is no
     * platform. Opens nothing: the component registers one backend per pair (opencl:P:D).
     */
    static List<int[]> deviceIndices() {
        int[] n = new int[1];
        try {
            clGetPlatformIDs(0, null, n);
            if (n[0] == 0) return List.of();
            cl_platform_id[] platforms = new cl_platform_id[n[0]];
            clGetPlatformIDs(n[0], platforms, null);
            List<int[]> out = new ArrayList<>();
            for (int p = 0; p < platforms.length; p++) {
                int count = devices(platforms[p]).length;
                for (int d = 0; d < count; d++) out.add(new int[] {p, d});
            }
            return out;
        } catch (CLException e) {
            return List.of(); // no platform: open() already said why
        }
    }

    private static int firstGpu(cl_device_id[] ds) {
        for (int d = 0; d < ds.length; d++) {
            if ((deviceLong(ds[d], CL_DEVICE_TYPE) & CL_DEVICE_TYPE_GPU) != 0) return d;
        }
        return 0;
    }

    private static cl_device_id[] devices(cl_platform_id p) {
        int[] n = new int[1];
        try {
            clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, 0, null, n);
        } catch (CLException e) {
            return new cl_device_id[0]; // CL_DEVICE_NOT_FOUND
        }
        cl_device_id[] ds = new cl_device_id[n[0]];
        clGetDeviceIDs(p, CL_DEVICE_TYPE_ALL, n[0], ds, null);
        return ds;
    }

    private static DeviceInfo describe(int pi, int di, cl_platform_id p, cl_device_id d) {
        String ext = deviceString(d, CL_DEVICE_EXTENSIONS);
        return new DeviceInfo(pi, di, platformString(p, CL_PLATFORM_NAME), platformString(p, CL_PLATFORM_VERSION),
                deviceString(d, CL_DEVICE_NAME).strip(), deviceLong(d, CL_DEVICE_TYPE), deviceLong(d, CL_DEVICE_GLOBAL_MEM_SIZE),
                deviceLong(d, CL_DEVICE_MAX_MEM_ALLOC_SIZE), deviceSize(d, CL_DEVICE_MAX_WORK_GROUP_SIZE),
                deviceInt(d, CL_DEVICE_MAX_COMPUTE_UNITS), ext.contains("cl_khr_fp64"));
    }

    private static String platformString(cl_platform_id p, int param) {
        long[] size = new long[1];
        clGetPlatformInfo(p, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetPlatformInfo(p, param, b.length, Pointer.to(b), null);
        return new String(b, 0, Math.max(0, b.length - 1), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static String deviceString(cl_device_id d, int param) {
        long[] size = new long[1];
        clGetDeviceInfo(d, param, 0, null, size);
        byte[] b = new byte[(int) size[0]];
        clGetDeviceInfo(d, param, b.length, Pointer.to(b), null);
        return new String(b, 0, Math.max(0, b.length - 1), java.nio.charset.StandardCharsets.UTF_8);
    }

    private static long deviceLong(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.cl_long, Pointer.to(v), null);
        return v[0];
    }

    private static long deviceSize(cl_device_id d, int param) {
        long[] v = new long[1];
        clGetDeviceInfo(d, param, Sizeof.size_t, Pointer.to(v), null);
        return v[0];
    }

    private static int deviceInt(cl_device_id d, int param) {
        int[] v = new int[1];
        clGetDeviceInfo(d, param, Sizeof.cl_int, Pointer.to(v), null);
        return v[0];
    }

    // ------------------------------------------------------------------ errors

    void checkAlive() {
        String l = lost;
        if (l != null) {
            throw new OpenClException(OpenClException.Kind.DEVICE_LOST, CL_INVALID_COMMAND_QUEUE,
                    "OpenCL device " + info.name + " was lost earlier (" + l + "); reconfigure PID dev.sisma.engine.opencl "
                            + "to re-open it, or use the cpu backend", null);
        }
    }

    /** Translates a failed call into an {@link OpenClException} naming what was being done. */
    OpenClException fail(String what, CLException e) {
        int s = e.getStatus();
        String code = CL.stringFor_errorCode(s);
        return switch (s) {
            case CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES, CL_OUT_OF_HOST_MEMORY, CL_INVALID_BUFFER_SIZE ->
                new OpenClException(OpenClException.Kind.OUT_OF_MEMORY, s, "OpenCL device " + info.name + " ran out of memory or resources ("
                        + code + ") " + what + "; " + (pool.liveBytes() >> 20) + " MiB in use of " + (info.globalMem >> 20)
                        + " MiB: use a smaller batch or image size", e);
            case CL_INVALID_COMMAND_QUEUE, CL_INVALID_CONTEXT, CL_DEVICE_NOT_AVAILABLE,
                 CL_EXEC_STATUS_ERROR_FOR_EVENTS_IN_WAIT_LIST, -9999 /* NVIDIA: illegal address, device reset */ -> {
                lost = code + " " + what;
                yield new OpenClException(OpenClException.Kind.DEVICE_LOST, s, "OpenCL device " + info.name + " lost (" + code
                        + ") " + what + "; the opencl backend stops, reconfigure it or use the cpu backend", e);
            }
            default -> new OpenClException(OpenClException.Kind.OTHER, s, "OpenCL call failed (" + code + ") " + what
                    + " on " + info.name, e);
        };
    }

    // ------------------------------------------------------------------ memory

    /** A new device allocation of {@code bytes}; on allocation failure the pool is emptied and it is tried once more. */
    @Override
    public cl_mem createBuffer(long bytes) {
        checkAlive();
        if (bytes > info.maxAlloc) {
            throw new OpenClException(OpenClException.Kind.OUT_OF_MEMORY, CL_INVALID_BUFFER_SIZE, "a buffer of "
                    + (bytes >> 20) + " MiB exceeds the largest allocation of OpenCL device " + info.name + " ("
                    + (info.maxAlloc >> 20) + " MiB)", null);
        }
        try {
            return clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException e) {
            if (pool.trim(0) == 0) throw fail("allocating " + bytes + " bytes", e);
        }
        try {
            return clCreateBuffer(context, CL_MEM_READ_WRITE, bytes, null, null);
        } catch (CLException e) {
            throw fail("allocating " + bytes + " bytes", e);
        }
    }

    @Override
    public void release(cl_mem m) {
        try {
            clReleaseMemObject(m);
        } catch (CLException e) {
            // Releasing cannot be retried; a lost device releases nothing more.
        }
    }

    @Override
    public void write(cl_mem dst, long byteOffset, float[] src, int from, int count) {
        write(dst, byteOffset, count * 4L, Pointer.to(src).withByteOffset(from * 4L));
    }

    @Override
    public void write(cl_mem dst, int[] src) {
        write(dst, 0, src.length * 4L, Pointer.to(src));
    }

    @Override
    public void write(cl_mem dst, long byteOffset, ByteBuffer src) {
        write(dst, byteOffset, src.remaining(), Pointer.to(src));
    }

    @Override
    public void read(cl_mem src, long byteOffset, float[] dst, int from, int count) {
        read(src, byteOffset, count * 4L, Pointer.to(dst).withByteOffset(from * 4L));
    }

    @Override
    public void read(cl_mem src, long byteOffset, ByteBuffer dst) {
        read(src, byteOffset, dst.remaining(), Pointer.to(dst));
    }

    private synchronized void write(cl_mem m, long byteOffset, long bytes, Pointer src) {
        checkAlive();
        try {
            clEnqueueWriteBuffer(queue, m, CL_TRUE, byteOffset, bytes, src, 0, null, null);
        } catch (CLException e) {
            throw fail("uploading " + bytes + " bytes", e);
        }
    }

    /** Blocking read: every earlier call on the queue is complete when it returns. */
    private synchronized void read(cl_mem m, long byteOffset, long bytes, Pointer dst) {
        checkAlive();
        try {
            clEnqueueReadBuffer(queue, m, CL_TRUE, byteOffset, bytes, dst, 0, null, null);
        } catch (CLException e) {
            throw fail("downloading " + bytes + " bytes", e);
        }
    }

    @Override
    public synchronized void finish() {
        checkAlive();
        try {
            clFinish(queue);
        } catch (CLException e) {
            throw fail("waiting for the queue", e);
        }
    }

    // ------------------------------------------------------------------ launches

    /** Sets the arguments and enqueues (one lock: kernel objects are not safe for concurrent clSetKernelArg). */
    @Override
    public synchronized void launch(String name, long[] global, long[] local, Object... args) {
        checkAlive();
        for (long g : global) {
            if (g == 0) return;
        }
        cl_kernel k = kernels.get(name);
        if (k == null) throw new IllegalArgumentException("no kernel " + name + " in the OpenCL program");
        long[] rounded = new long[global.length];
        for (int d = 0; d < global.length; d++) {
            rounded[d] = local == null ? global[d] : (global[d] + local[d] - 1) / local[d] * local[d];
        }
        try {
            for (int i = 0; i < args.length; i++) {
                Object a = args[i];
                switch (a) {
                    case GpuBuffer<?> b -> clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to((cl_mem) b.mem()));
                    case cl_mem m -> clSetKernelArg(k, i, Sizeof.cl_mem, Pointer.to(m));
                    case Integer v -> clSetKernelArg(k, i, Sizeof.cl_int, Pointer.to(new int[] {v}));
                    case Long v -> clSetKernelArg(k, i, Sizeof.cl_long, Pointer.to(new long[] {v}));
                    case Float v -> clSetKernelArg(k, i, Sizeof.cl_float, Pointer.to(new float[] {v}));
                    case byte[] v -> clSetKernelArg(k, i, v.length, Pointer.to(v));
                    default -> throw new IllegalArgumentException("kernel argument " + a);
                }
            }
            clEnqueueNDRangeKernel(queue, k, global.length, null, rounded, local, 0, null, null);
        } catch (CLException e) {
            throw fail("running kernel " + name, e);
        }
    }

    @Override
    public synchronized void close() {
        pool.close();
        try {
            if (lost == null) clFinish(queue);
        } catch (CLException e) {
            // closing anyway
        }
        try {
            for (cl_kernel k : kernels.values()) clReleaseKernel(k);
            clReleaseProgram(program);
            clReleaseCommandQueue(queue);
            clReleaseContext(context);
        } catch (CLException e) {
            // nothing more to free on a lost device
        }
        kernels.clear();
    }
}
