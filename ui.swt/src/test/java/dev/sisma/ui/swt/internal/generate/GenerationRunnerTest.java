package dev.sisma.ui.swt.internal.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.mockito.ArgumentMatchers.any;
import static org.mockito.ArgumentMatchers.anyDouble;
import static org.mockito.ArgumentMatchers.anyLong;
import static org.mockito.ArgumentMatchers.eq;
import static org.mockito.Mockito.after;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.never;
import static org.mockito.Mockito.timeout;
import static org.mockito.Mockito.verify;
import static org.mockito.Mockito.when;

import java.util.List;
import java.util.concurrent.CancellationException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;

class GenerationRunnerTest {
    static final GenerationRequest REQUEST = new GenerationRequest(new Mask(2, 2, new byte[4]), 1, 5, 3, "euler", 1.5, null, null);
    static final List<GeneratedImage> IMAGES = List.of(new GeneratedImage(5, 1, 1, new int[] {0xFF0000}));

    @Test
    void runsOffTheCallersThreadAndReportsProgressAndResult() throws Exception {
        Generator g = mock(Generator.class);
        AtomicReference<Thread> ran = new AtomicReference<>();
        when(g.generate(eq(REQUEST), any())).thenAnswer(inv -> {
            ran.set(Thread.currentThread());
            Progress p = inv.getArgument(1);
            for (int i = 1; i <= 3; i++) {
                p.step(i, 3, 0.01);
            }
            return IMAGES;
        });
        GenerationRunner.Listener l = mock(GenerationRunner.Listener.class);
        try (GenerationRunner r = new GenerationRunner()) {
            long id = r.start(g, REQUEST, l);
            verify(l, timeout(5000)).finished(eq(id), eq(IMAGES), anyDouble());
            verify(l).progress(id, 3, 3, 0.01);
            assertNotEquals(Thread.currentThread(), ran.get());
            assertEquals("sisma-generate", ran.get().getName());
        }
    }

    @Test
    void startingANewJobCancelsTheRunningOne() throws Exception {
        Generator g = mock(Generator.class);
        CountDownLatch started = new CountDownLatch(1);
        when(g.generate(any(), any())).thenAnswer(inv -> {
            Progress p = inv.getArgument(1);
            if (started.getCount() == 1) {
                started.countDown();
                while (!p.cancelled()) {
                    Thread.sleep(2);
                }
                throw new CancellationException();
            }
            return IMAGES;
        });
        GenerationRunner.Listener l = mock(GenerationRunner.Listener.class);
        try (GenerationRunner r = new GenerationRunner()) {
            long first = r.start(g, REQUEST, l);
            started.await(5, TimeUnit.SECONDS);
            long second = r.start(g, REQUEST, l);
            verify(l, timeout(5000)).cancelled(first);
            verify(l, timeout(5000)).finished(eq(second), eq(IMAGES), anyDouble());
            verify(l, never()).finished(eq(first), any(), anyDouble());
            assertEquals(second, r.latest());
        }
    }

    @Test
    void failuresAreReportedNotThrown() {
        Generator g = mock(Generator.class);
        when(g.generate(any(), any())).thenThrow(new IllegalStateException("no demo model is bundled"));
        GenerationRunner.Listener l = mock(GenerationRunner.Listener.class);
        try (GenerationRunner r = new GenerationRunner()) {
            long id = r.start(g, REQUEST, l);
            verify(l, timeout(5000)).failed(eq(id), any(IllegalStateException.class));
            verify(l, after(50).never()).finished(anyLong(), any(), anyDouble());
        }
    }

    @Test
    void generatorSourceFollowsBindAndUnbind() {
        GeneratorSource s = new GeneratorSource();
        Runnable l = mock(Runnable.class);
        s.addListener(l);
        Generator a = mock(Generator.class), b = mock(Generator.class);
        s.set(a);
        s.unset(b);
        assertEquals(a, s.current(), "unbinding another generator keeps the current one");
        s.unset(a);
        assertEquals(null, s.current());
        verify(l, org.mockito.Mockito.times(2)).run();
    }
}
