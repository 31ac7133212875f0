package dev.sisma.engine.gpu;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.ArgumentMatchers.anyString;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.lang.reflect.Method;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.Backends;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.cpu.CpuBackend;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;
import dev.sisma.model.internal.SismaGenerator;
import dev.sisma.model.sampling.Sampler;
import dev.sisma.model.sampling.Samplers;

/**
 * What {@code ./sisma generate --backend NAME --seed S} does on a GPU backend (engine.opencl's
 * OpenClGenerateTest, engine.cuda's CudaGenerateTest), at the Generator service: a tiny
 * pixel-space SISMA checkpoint with seeded non-zero weights (written with Checkpoints), the same
 * request on the CPU and the GPU backend. Tolerance: every 8-bit channel of every pixel within
 * {@value #MAX_CHANNEL_DIFF} of the CPU image (the float32 results differ by ~1e-6 relative, so only
 * values next to a rounding boundary may land one level apart), with or without guidance.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
public abstract class GpuGenerateTests implements GpuUnderTest {
    static final int MAX_CHANNEL_DIFF = 1;

    private Backend gpu;
    private CpuBackend cpu;
    @TempDir
    static Path dir;
    private Path checkpoint;

    @BeforeAll
    void start() throws Exception {
        gpu = openOrNull();
        cpu = new CpuBackend(2);
        SismaConfig cfg = SismaConfig.named("demo").with("name", "tiny-pixel", "depth", 2, "hidden", 16, "patch", 2,
                "input_size", 16, "image_size", 16, "d_state", 4);
        try (Sisma m = new Sisma(cfg, cpu)) {
            // seeded, perturbed weights: the zero-initialised adaLN and final layers would make every image flat
            long k = 1;
            for (Parameter p : m.namedParameters().values()) {
                try (Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
                    p.set(Tensor.randn(cpu, k++, 0, p.value().shape().dims()).mul(0.2f));
                }
            }
            checkpoint = dir.resolve("tiny-pixel.safetensors");
            Checkpoints.save(m, checkpoint, Map.of("note", getClass().getSimpleName()));
        }
    }

    @AfterAll
    void stop() {
        if (gpu instanceof GpuBackend<?> g) g.close();
        cpu.close();
    }

    private SismaGenerator generator() {
        Backends b = mock(Backends.class);
        when(b.byName(anyString())).thenReturn(Optional.empty());
        when(b.byName("cpu")).thenReturn(Optional.of(cpu));
        when(b.byName(backendName())).thenReturn(Optional.of(gpu));
        when(b.all()).thenReturn(List.<Backend>of(cpu, gpu));
        when(b.current()).thenReturn(Optional.of(cpu));
        SismaGenerator g = new SismaGenerator(b);
        try {
            // the DS bind method (package-private, as SCR calls it)
            Method bind = SismaGenerator.class.getDeclaredMethod("addSampler", Sampler.class);
            bind.setAccessible(true);
            for (Sampler s : Samplers.builtIn()) bind.invoke(g, s);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError(e);
        }
        return g;
    }

    /** A face-like layout: background, a skin disc, two eyes, a mouth band. */
    private static Mask mask() {
        int s = 64;
        byte[] c = new byte[s * s];
        for (int y = 0; y < s; y++) {
            for (int x = 0; x < s; x++) {
                int dx = x - 32, dy = y - 32;
                int cls = dx * dx + dy * dy < 24 * 24 ? 1 : 0;
                if (cls == 1 && y > 22 && y < 28 && (Math.abs(dx - 9) < 4 || Math.abs(dx + 9) < 4)) cls = 4;
                if (cls == 1 && y > 40 && y < 45 && Math.abs(dx) < 8) cls = 11;
                c[y * s + x] = (byte) cls;
            }
        }
        return new Mask(s, s, c);
    }

    private GenerationRequest request(String backend, double cfgScale) {
        return new GenerationRequest(mask(), 2, 1234, 4, "euler", cfgScale, checkpoint, backend);
    }

    @Test
    void gpuImagesMatchTheCpuImagesForTheSameSeed() {
        require(gpu);
        SismaGenerator g = generator();
        for (double cfgScale : new double[] {1.0, 2.0}) {
            List<GeneratedImage> c = g.generate(request("cpu", cfgScale), Progress.NONE);
            List<GeneratedImage> o = g.generate(request(backendName(), cfgScale), Progress.NONE);
            assertEquals(c.size(), o.size());
            int worst = 0, differing = 0, levels = 0;
            for (int i = 0; i < c.size(); i++) {
                assertEquals(c.get(i).seed(), o.get(i).seed());
                int[] a = c.get(i).rgb(), b = o.get(i).rgb();
                assertEquals(a.length, b.length);
                for (int p = 0; p < a.length; p++) {
                    for (int sh = 0; sh <= 16; sh += 8) {
                        int d = Math.abs((a[p] >> sh & 255) - (b[p] >> sh & 255));
                        worst = Math.max(worst, d);
                        if (d != 0) differing++;
                    }
                }
                levels += (int) java.util.Arrays.stream(a).distinct().count();
            }
            assertTrue(worst <= MAX_CHANNEL_DIFF, "cfg " + cfgScale + ": a channel differs by " + worst + " levels");
            assertTrue(levels > 20, "the images are not flat (" + levels + " colours), so the comparison means something");
            System.out.println("generate cfg " + cfgScale + ": worst channel difference " + worst + ", " + differing + " channels differ");
        }
        assertFalse(java.util.Arrays.equals(g.generate(request(backendName(), 1.0), Progress.NONE).get(0).rgb(),
                g.generate(new GenerationRequest(mask(), 1, 99, 4, "euler", 1.0, checkpoint, backendName()), Progress.NONE).get(0).rgb()),
                "another seed gives another image");
    }

    @Test
    void anUnknownBackendNameIsAOneLineErrorListingTheBackends() {
        require(gpu);
        SismaGenerator g = generator();
        String unknown = backendName() + ":9:9";
        InputException e = assertThrows(InputException.class, () -> g.generate(request(unknown, 1.0), Progress.NONE));
        assertTrue(e.getMessage().contains("'" + unknown + "' is not registered; available: [cpu, " + backendName() + "]"), e.getMessage());
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
    }
}
