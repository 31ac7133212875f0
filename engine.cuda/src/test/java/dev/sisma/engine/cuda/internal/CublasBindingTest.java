package dev.sisma.engine.cuda.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;

import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Cublas's binding and its row-major mapping (C = op(A) op(B) computed as the column-major
 * C^T = op(B)^T op(A)^T: swapped operands, transposes, leading dimensions, batch strides), checked
 * without a GPU against src/test/c/fake_cublas.c: a libcublas stand-in that implements
 * cublasGemmStridedBatchedEx's column-major definition on host memory. Compared with a row-major
 * reference in double, for every transpose pair, batches with a shared (stride 0) operand, alpha
 * and beta. Also: the compute type of each precision and the stream reach the call. Needs a C compiler (cc).
 */
class CublasBindingTest {
    @TempDir
    static Path dir;

    private static Path fakeLibrary() throws IOException, InterruptedException {
        Path lib = dir.resolve("libcublas.so.13");
        if (Files.exists(lib)) return lib;
        Path src = Path.of("src", "test", "c", "fake_cublas.c").toAbsolutePath();
        Process p;
        try {
            p = new ProcessBuilder("cc", "-O1", "-shared", "-fPIC", "-o", lib.toString(), src.toString())
                    .redirectErrorStream(true).start();
        } catch (IOException e) {
            Assumptions.abort("no C compiler (cc) to build the cuBLAS stand-in: " + e.getMessage());
            throw e;
        }
        String log = new String(p.getInputStream().readAllBytes());
        assertEquals(0, p.waitFor(), "compiling fake_cublas.c: " + log);
        return lib;
    }

    /** Row-major reference: C[p] = alpha op(A[p]) op(B[p]) + beta C[p]. */
    private static float[] reference(boolean ta, boolean tb, int batch, int m, int n, int k, float alpha, float[] a, long sa,
                                     float[] b, long sb, float beta, float[] c) {
        float[] out = c.clone();
        for (int p = 0; p < batch; p++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double s = 0;
                    for (int l = 0; l < k; l++) {
                        float x = ta ? a[(int) (p * sa) + l * m + i] : a[(int) (p * sa) + i * k + l];
                        float y = tb ? b[(int) (p * sb) + j * k + l] : b[(int) (p * sb) + l * n + j];
                        s += (double) x * y;
                    }
                    int o = p * m * n + i * n + j;
                    out[o] = (float) (alpha * s + beta * c[o]);
                }
            }
        }
        return out;
    }

    private static float[] random(Random r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = r.nextFloat() * 2 - 1;
        return v;
    }

    @Test
    void rowMajorGemmMapsOntoTheColumnMajorCall() throws Exception {
        Path lib = fakeLibrary();
        Random r = new Random(3);
        int m = 5, n = 7, k = 3;
        try (Arena arena = Arena.ofConfined(); Cublas cublas = new Cublas(lib, 0x1234)) {
            for (int batch : new int[] {1, 3}) {
                for (boolean sharedA : new boolean[] {false, true}) {
                    for (int t = 0; t < 4; t++) {
                        boolean ta = (t & 1) != 0, tb = (t & 2) != 0;
                        long sa = sharedA ? 0 : (long) m * k, sb = (long) k * n;
                        float[] a = random(r, (int) Math.max(sa * batch, m * k)), b = random(r, (int) (sb * batch)),
                                c = random(r, batch * m * n);
                        float alpha = 1.5f, beta = t == 3 ? 0f : 0.5f;
                        float[] want = reference(ta, tb, batch, m, n, k, alpha, a, sa, b, sb, beta, c);
                        MemorySegment da = arena.allocateFrom(ValueLayout.JAVA_FLOAT, a), db = arena.allocateFrom(ValueLayout.JAVA_FLOAT, b),
                                dc = arena.allocateFrom(ValueLayout.JAVA_FLOAT, c);
                        cublas.sgemm(ta, tb, batch, m, n, k, alpha, da.address(), sa, db.address(), sb, beta, dc.address(), GemmPrecision.FP32);
                        float[] got = dc.toArray(ValueLayout.JAVA_FLOAT);
                        for (int i = 0; i < got.length; i++) {
                            assertEquals(want[i], got[i], 1e-5f, "transA " + ta + " transB " + tb + " batch " + batch + " shared A "
                                    + sharedA + ": element " + i);
                        }
                    }
                }
            }
        }
    }

    @Test
    void eachPrecisionSelectsItsComputeTypeOnTheBackendsStream() throws Throwable {
        Path lib = fakeLibrary();
        try (Arena arena = Arena.ofConfined(); Cublas cublas = new Cublas(lib, 0xabc0)) {
            SymbolLookup fake = SymbolLookup.libraryLookup(lib, arena);
            var computeType = Linker.nativeLinker().downcallHandle(fake.find("fake_last_compute_type").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.JAVA_INT));
            var stream = Linker.nativeLinker().downcallHandle(fake.find("fake_last_stream").orElseThrow(),
                    FunctionDescriptor.of(ValueLayout.ADDRESS));
            MemorySegment x = arena.allocateFrom(ValueLayout.JAVA_FLOAT, 1f, 2f, 3f, 4f);
            int[] expected = {68, 77, 75}; // CUBLAS_COMPUTE_32F, _32F_FAST_TF32, _32F_FAST_16BF (cublas_api.h)
            for (GemmPrecision p : GemmPrecision.values()) {
                cublas.sgemm(false, false, 1, 2, 2, 2, 1f, x.address(), 0, x.address(), 0, 0f, x.address(), p);
                assertEquals(expected[p.ordinal()], (int) computeType.invokeExact(), p.name());
                assertEquals(0xabc0L, ((MemorySegment) stream.invokeExact()).address());
            }
        }
    }

    @Test
    void findLooksInTheConfiguredFolderFirstAndNoneTurnsItOff() throws Exception {
        Path lib = fakeLibrary();
        assertEquals(lib, Cublas.find(dir.toString()).library());
        Cublas.Location off = Cublas.find("none");
        assertEquals(null, off.library());
        assertTrue(off.why().contains("cublasDir = none"), off.why());
        Cublas.Location missing = Cublas.find(dir.resolve("nothing-here").toString());
        assertTrue(missing.library() != null || missing.why().contains("nothing-here"), String.valueOf(missing));
    }
}
