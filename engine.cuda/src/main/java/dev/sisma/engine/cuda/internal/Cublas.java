package dev.sisma.engine.cuda.internal;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * cuBLAS through the FFM API (JCublas is built against CUDA 12's libcublas and does not load on a
 * CUDA 13 machine; the few calls needed here bind to whichever libcublas is installed). Found in
 * the configured folder (PID dev.sisma.engine.cuda, property {@code cublasDir}), else on
 * LD_LIBRARY_PATH, java.library.path and the usual CUDA folders; {@link #find} says where it
 * looked when it is in none. One handle per device, bound to the backend's stream.
 *
 * <p>Row-major C[m, n] = op(A) op(B) is computed as the column-major C^T = op(B)^T op(A)^T, so
 * the operands swap and no data moves.
 */
final class Cublas implements AutoCloseable {
    /** The sonames tried in order: CUDA 13, then 12. */
    static final List<String> NAMES = List.of("libcublas.so.13", "libcublas.so.12", "libcublas.so");
    private static final int CUDA_R_32F = 0;
    private static final int CUBLAS_OP_N = 0, CUBLAS_OP_T = 1;
    private static final int CUBLAS_GEMM_DEFAULT = -1;

    /** Where libcublas was found, or why not. */
    record Location(Path library, String why) {
    }

    private final Arena arena = Arena.ofShared();
    final Path library;
    private final MethodHandle gemmStridedBatchedEx;
    private final MethodHandle destroy;
    private final MemorySegment handle;
    private final MemorySegment alphaBeta;

    /** Folders searched for libcublas: the configured one first. */
    static List<Path> searchPath(String configuredDir) {
        Set<String> dirs = new LinkedHashSet<>();
        if (configuredDir != null && !configuredDir.isBlank()) dirs.add(configuredDir.strip());
        for (String var : new String[] {System.getenv("LD_LIBRARY_PATH"), System.getProperty("java.library.path")}) {
            if (var != null) for (String d : var.split(":")) if (!d.isBlank()) dirs.add(d);
        }
        dirs.add("/usr/local/cuda/lib64");
        dirs.add("/usr/local/cuda/targets/x86_64-linux/lib");
        dirs.add("/usr/lib/x86_64-linux-gnu");
        List<Path> out = new ArrayList<>();
        for (String d : dirs) out.add(Path.of(d));
        return out;
    }

    /** The first libcublas in {@link #searchPath}, or where it looked; {@code none} (the configured folder) turns cuBLAS off. */
    static Location find(String configuredDir) {
        if (configuredDir != null && configuredDir.strip().equals("none")) {
            return new Location(null, "cuBLAS turned off (cublasDir = none)");
        }
        List<Path> dirs = searchPath(configuredDir);
        for (Path d : dirs) {
            for (String n : NAMES) {
                Path p = d.resolve(n);
                if (Files.isReadable(p)) return new Location(p, null);
            }
        }
        return new Location(null, "no libcublas (" + String.join(", ", NAMES) + ") in " + dirs
                + "; GEMM runs on the kernels (set PID dev.sisma.engine.cuda, property cublasDir)");
    }

    /** Loads libcublas, creates a handle and binds it to {@code stream} (a CUstream handle). */
    Cublas(Path library, long stream) {
        this.library = library;
        Linker linker = Linker.nativeLinker();
        SymbolLookup lib = SymbolLookup.libraryLookup(library, arena);
        ValueLayout.OfInt I = ValueLayout.JAVA_INT;
        ValueLayout.OfLong J = ValueLayout.JAVA_LONG;
        var P = ValueLayout.ADDRESS;
        MethodHandle create = linker.downcallHandle(lib.find("cublasCreate_v2").orElseThrow(), FunctionDescriptor.of(I, P));
        MethodHandle setStream = linker.downcallHandle(lib.find("cublasSetStream_v2").orElseThrow(), FunctionDescriptor.of(I, P, P));
        destroy = linker.downcallHandle(lib.find("cublasDestroy_v2").orElseThrow(), FunctionDescriptor.of(I, P));
        // cublasGemmStridedBatchedEx(handle, transa, transb, m, n, k, alpha, A, Atype, lda, strideA,
        //     B, Btype, ldb, strideB, beta, C, Ctype, ldc, strideC, batchCount, computeType, algo)
        gemmStridedBatchedEx = linker.downcallHandle(lib.find("cublasGemmStridedBatchedEx").orElseThrow(),
                FunctionDescriptor.of(I, P, I, I, I, I, I, P, P, I, I, J, P, I, I, J, P, P, I, I, J, I, I, I));
        MemorySegment h = arena.allocate(ValueLayout.ADDRESS);
        try {
            check((int) create.invokeExact(h), "cublasCreate");
            handle = h.get(ValueLayout.ADDRESS, 0);
            check((int) setStream.invokeExact(handle, MemorySegment.ofAddress(stream)), "cublasSetStream");
        } catch (Throwable t) {
            throw rethrow(t);
        }
        alphaBeta = arena.allocate(ValueLayout.JAVA_FLOAT, 2);
    }

    private static RuntimeException rethrow(Throwable t) {
        if (t instanceof RuntimeException r) return r;
        if (t instanceof Error e) throw e;
        return new IllegalStateException(t);
    }

    private static void check(int status, String what) {
        if (status != 0) {
            throw new CudaException(status == 3 ? CudaException.Kind.OUT_OF_MEMORY : CudaException.Kind.OTHER, status,
                    what + " failed with cublasStatus " + status + (status == 3 ? " (CUBLAS_STATUS_ALLOC_FAILED)" : ""));
        }
    }

    /**
     * Row-major, batched: C_p = alpha op(A_p) op(B_p) + beta C_p for p < batch, with A_p at
     * {@code a + p strideA} floats (A is m x k, stored k x m when transA), C contiguous m x n.
     * The caller holds the device's lock order: it runs on the device's stream.
     */
    synchronized void sgemm(boolean transA, boolean transB, int batch, int m, int n, int k, float alpha, long a, long strideA,
                            long b, long strideB, float beta, long c, GemmPrecision precision) {
        alphaBeta.setAtIndex(ValueLayout.JAVA_FLOAT, 0, alpha);
        alphaBeta.setAtIndex(ValueLayout.JAVA_FLOAT, 1, beta);
        try {
            int status = (int) gemmStridedBatchedEx.invokeExact(handle, transB ? CUBLAS_OP_T : CUBLAS_OP_N, transA ? CUBLAS_OP_T : CUBLAS_OP_N,
                    n, m, k, alphaBeta,
                    MemorySegment.ofAddress(b), CUDA_R_32F, transB ? k : n, strideB,
                    MemorySegment.ofAddress(a), CUDA_R_32F, transA ? m : k, strideA,
                    alphaBeta.asSlice(4),
                    MemorySegment.ofAddress(c), CUDA_R_32F, n, (long) m * n,
                    batch, precision.computeType, CUBLAS_GEMM_DEFAULT);
            check(status, "cublasGemmStridedBatchedEx " + m + "x" + n + "x" + k + " batch " + batch);
        } catch (Throwable t) {
            throw rethrow(t);
        }
    }

    @Override
    public synchronized void close() {
        try {
            int ignored = (int) destroy.invokeExact(handle);
        } catch (Throwable t) {
            // closing anyway
        }
        arena.close();
    }
}
