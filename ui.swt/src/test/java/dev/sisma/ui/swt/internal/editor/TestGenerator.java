package dev.sisma.ui.swt.internal.editor;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicInteger;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.SamplingDefaults;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;

/**
 * A real, deterministic {@link Generator} for the UI tests: each pixel is its class's palette colour
 * plus noise seeded by the sample's seed. It runs its steps, reports progress and honours cancel like
 * the model does, so the editor's job handling is exercised for real.
 */
final class TestGenerator implements Generator {
    static final int SIZE = 64;
    /** What a request that leaves sampler, steps and guidance open runs with. */
    static final SamplingDefaults DEFAULTS = new SamplingDefaults("heun", 5, 2.5);
    final long stepMillis;
    final List<String> threads = new java.util.concurrent.CopyOnWriteArrayList<>();
    final AtomicInteger calls = new AtomicInteger();
    volatile Mask lastMask;
    volatile GenerationRequest lastRequest;

    TestGenerator(long stepMillis) {
        this.stepMillis = stepMillis;
    }

    @Override
    public List<String> samplers() {
        return List.of("euler", "heun");
    }

    @Override
    public java.util.Optional<SamplingDefaults> defaults(java.nio.file.Path checkpoint) {
        return java.util.Optional.of(DEFAULTS);
    }

    @Override
    public List<GeneratedImage> generate(GenerationRequest request, Progress progress) {
        calls.incrementAndGet();
        threads.add(Thread.currentThread().getName());
        lastMask = request.mask();
        lastRequest = request;
        long t0 = System.nanoTime();
        // like a real model, 0 steps means "my default"
        int steps = request.steps() == 0 ? DEFAULTS.steps() : request.steps();
        for (int s = 1; s <= steps; s++) {
            if (progress.cancelled()) {
                throw new CancellationException("cancelled at step " + s);
            }
            if (stepMillis > 0) {
                try {
                    Thread.sleep(stepMillis);
                } catch (InterruptedException e) {
                    throw new CancellationException("interrupted");
                }
            }
            progress.step(s, steps, (System.nanoTime() - t0) / 1e9 / s);
        }
        List<GeneratedImage> out = new ArrayList<>();
        for (int i = 0; i < request.samples(); i++) {
            out.add(expected(request.mask(), request.seed() + i));
        }
        return out;
    }

    static GeneratedImage expected(Mask mask, long seed) {
        Mask m = mask.resizeNearest(SIZE, SIZE);
        Random r = new Random(seed);
        int[] rgb = new int[SIZE * SIZE];
        for (int i = 0; i < rgb.length; i++) {
            int c = FaceClass.of(m.classAt(i % SIZE, i / SIZE)).rgb();
            int n = r.nextInt(41) - 20;
            int red = clamp(((c >> 16) & 0xFF) + n), g = clamp(((c >> 8) & 0xFF) + n), b = clamp((c & 0xFF) + n);
            rgb[i] = (red << 16) | (g << 8) | b;
        }
        return new GeneratedImage(seed, SIZE, SIZE, rgb);
    }

    private static int clamp(int v) {
        return Math.max(0, Math.min(255, v));
    }
}
