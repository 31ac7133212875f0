package dev.sisma.server.internal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.mockito.Mockito.mock;
import static org.mockito.Mockito.when;

import java.lang.annotation.Annotation;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.mask.Mask;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;

/** The queue without HTTP: round-robin across clients, capacity, a backend going away mid-job, a restart. */
class JobQueueTest {
    @TempDir
    Path state;

    /** Records the seed of each job it runs (on which backend); blocks while {@code hold} is set, until cancelled. */
    static final class FakeGenerator implements Generator {
        final List<String> ran = Collections.synchronizedList(new ArrayList<>());
        /** The weight format each job asked for (null: the generator's default). */
        final List<WeightFormat> weights = Collections.synchronizedList(new ArrayList<>());
        volatile boolean hold;
        volatile boolean running;

        @Override
        public List<String> samplers() {
            return List.of("euler");
        }

        @Override
        public List<GeneratedImage> generate(GenerationRequest r, Progress progress) {
            running = true;
            try {
                while (hold) {
                    if (progress.cancelled()) {
                        throw new CancellationException("cancelled");
                    }
                    Thread.sleep(5);
                }
            } catch (InterruptedException e) {
                throw new CancellationException("interrupted");
            } finally {
                running = false;
            }
            progress.step(1, 1, 0.001);
            ran.add(r.seed() + "@" + r.backend());
            weights.add(r.weights());
            List<GeneratedImage> out = new ArrayList<>();
            for (int i = 0; i < r.samples(); i++) {
                out.add(new GeneratedImage(r.seed() + i, 2, 2, new int[4]));
            }
            return out;
        }
    }

    static Backend backend(String name) {
        Backend b = mock(Backend.class);
        when(b.name()).thenReturn(name);
        return b;
    }

    static ServerConfig config(Path state, int capacity) {
        return config(state, capacity, 1);
    }

    static ServerConfig config(Path state, int capacity, int slots) {
        return config(state, capacity, slots, "");
    }

    static ServerConfig config(Path state, int capacity, int slots, String weights) {
        return new ServerConfig() {
            public Class<? extends Annotation> annotationType() { return ServerConfig.class; }
            public String state_dir() { return state.toString(); }
            public boolean auth() { return true; }
            public int queue_capacity() { return capacity; }
            public long max_upload_bytes() { return 1 << 20; }
            public int max_image_side() { return 1024; }
            public int max_samples() { return 4; }
            public int max_steps() { return 10; }
            public int keep_finished() { return 100; }
            public String models_dir() { return ""; }
            public String data_dir() { return ""; }
            public int worker_slots() { return slots; }
            public String weights() { return weights; }
        };
    }

    static Job.Spec spec(long seed) {
        return new Job.Spec(1, seed, 1, null, Double.NaN, null, null);
    }

    static final Mask MASK = new Mask(32, 32, new byte[32 * 32]);

    static void await(Job job, Job.State state) throws InterruptedException {
        long end = System.currentTimeMillis() + 10_000;
        while (job.state() != state) {
            assertTrue(System.currentTimeMillis() < end, "job " + job.id + " is " + job.state() + ", not " + state);
            Thread.sleep(5);
        }
    }

    @Test
    void clientsTakeTurnsAndAFullQueueRefuses() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backends backends = mock(Backends.class);
        registryHasAll(backends);
        when(backends.current()).thenReturn(Optional.of(cpu));
        JobQueue q = new JobQueue(gen, backends, config(state, 4), () -> false);
        try {
            // No worker yet: everything waits. A submits three, then B one.
            List<Job> jobs = List.of(q.submit("A", spec(1), MASK), q.submit("A", spec(2), MASK), q.submit("A", spec(3), MASK),
                    q.submit("B", spec(100), MASK));
            QueueFullException full = assertThrows(QueueFullException.class, () -> q.submit("C", spec(7), MASK));
            assertTrue(full.retryAfterSeconds() >= 1);
            assertEquals(1, q.rejected.get());
            assertEquals(1, q.position(jobs.get(3)), "B's job runs second");
            q.addBackend(cpu);
            for (Job j : jobs) {
                await(j, Job.State.DONE);
            }
            assertEquals(List.of("1@cpu", "100@cpu", "2@cpu", "3@cpu"), gen.ran, "round-robin: A, B, A, A");
            assertTrue(java.nio.file.Files.exists(q.sampleFile(jobs.get(0), 0)));
        } finally {
            q.deactivate();
        }
    }

    @Test
    void aWorkerWaitsUntilTheRegistryHasItsBackend() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backends backends = mock(Backends.class);
        java.util.concurrent.atomic.AtomicBoolean registered = new java.util.concurrent.atomic.AtomicBoolean();
        when(backends.byName("cpu")).thenAnswer(i -> registered.get() ? Optional.of(cpu) : Optional.empty());
        when(backends.current()).thenReturn(Optional.of(cpu));
        JobQueue q = new JobQueue(gen, backends, config(state, 4), () -> false);
        try {
            // the queue sees the backend before the registry does: the job waits instead of failing
            q.addBackend(cpu);
            Job job = q.submit("A", spec(1), MASK);
            Thread.sleep(300);
            assertEquals(Job.State.QUEUED, job.state());
            assertEquals(List.of(), gen.ran);
            registered.set(true);
            await(job, Job.State.DONE);
            assertEquals(List.of("1@cpu"), gen.ran);
        } finally {
            q.deactivate();
        }
    }

    /** Counts the jobs inside generate at once; each waits until {@code release}. */
    static final class ConcurrentGenerator implements Generator {
        final java.util.concurrent.atomic.AtomicInteger inside = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.atomic.AtomicInteger most = new java.util.concurrent.atomic.AtomicInteger();
        final java.util.concurrent.CountDownLatch release = new java.util.concurrent.CountDownLatch(1);

        @Override
        public List<String> samplers() {
            return List.of("euler");
        }

        @Override
        public List<GeneratedImage> generate(GenerationRequest r, Progress progress) {
            most.accumulateAndGet(inside.incrementAndGet(), Math::max);
            try {
                release.await(10, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                throw new CancellationException("interrupted");
            } finally {
                inside.decrementAndGet();
            }
            return List.of(new GeneratedImage(r.seed(), 2, 2, new int[4]));
        }
    }

    @Test
    void workerSlotsRunThatManyJobsOfABackendAtOnce() throws Exception {
        for (int slots : new int[] {1, 3}) {
            ConcurrentGenerator gen = new ConcurrentGenerator();
            Backend cpu = backend("cpu");
            Backends backends = mock(Backends.class);
            registryHasAll(backends);
            when(backends.current()).thenReturn(Optional.of(cpu));
            JobQueue q = new JobQueue(gen, backends, config(state.resolve("s" + slots), 8, slots), () -> false);
            try {
                List<Job> jobs = new ArrayList<>();
                for (int i = 0; i < 4; i++) {
                    jobs.add(q.submit("A", spec(i), MASK));
                }
                q.addBackend(cpu);
                long end = System.currentTimeMillis() + 10_000;
                while (gen.inside.get() < slots && System.currentTimeMillis() < end) {
                    Thread.sleep(5);
                }
                Thread.sleep(100); // a further job would have started by now
                assertEquals(slots, gen.inside.get(), "jobs running at once with " + slots + " slot(s)");
                assertEquals(slots, q.running());
                gen.release.countDown();
                for (Job j : jobs) {
                    await(j, Job.State.DONE);
                }
                assertEquals(slots, gen.most.get());
                // The backend going away stops every slot: a new job waits.
                q.removeBackend(cpu);
                Thread.sleep(100);
                Job after = q.submit("A", spec(9), MASK);
                Thread.sleep(300);
                assertEquals(Job.State.QUEUED, after.state());
            } finally {
                q.deactivate();
            }
        }
    }

    /** sisma serve --weights: every job asks the generator for that format; without it, for the generator's default. */
    @Test
    void theServersWeightFormatGoesWithEveryJob() throws Exception {
        for (String weights : new String[] {"bf16", ""}) {
            FakeGenerator gen = new FakeGenerator();
            Backend cpu = backend("cpu");
            Backends backends = mock(Backends.class);
            registryHasAll(backends);
            when(backends.current()).thenReturn(Optional.of(cpu));
            JobQueue q = new JobQueue(gen, backends, config(state.resolve("w" + weights), 4, 1, weights), () -> false);
            try {
                q.addBackend(cpu);
                await(q.submit("A", spec(1), MASK), Job.State.DONE);
                await(q.submit("B", spec(2), MASK), Job.State.DONE);
                WeightFormat expected = weights.isEmpty() ? null : WeightFormat.BF16;
                assertEquals(java.util.Arrays.asList(expected, expected), gen.weights);
            } finally {
                q.deactivate();
            }
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> new JobQueue(new FakeGenerator(), mock(Backends.class), config(state.resolve("bad"), 4, 1, "fp8"), () -> false));
        assertTrue(e.getMessage().contains("'fp8'"), e.getMessage());
    }

    @Test
    void aBackendStoppedMidJobFailsItWithTheReason() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backends backends = mock(Backends.class);
        registryHasAll(backends);
        AtomicReference<Optional<Backend>> current = new AtomicReference<>(Optional.of(cpu));
        when(backends.current()).thenAnswer(i -> current.get());
        JobQueue q = new JobQueue(gen, backends, config(state, 4), () -> false);
        try {
            q.addBackend(cpu);
            gen.hold = true;
            Job job = q.submit("A", spec(5), MASK);
            await(job, Job.State.RUNNING);
            current.set(Optional.empty());
            q.removeBackend(cpu);
            await(job, Job.State.FAILED);
            String error = (String) job.snapshot(-1).get("error");
            assertTrue(error.contains("compute backend 'cpu' was stopped") && error.contains("no other backend"), error);
        } finally {
            q.deactivate();
        }
    }

    @Test
    void aBackendStoppedWithTheContainerLeavesItsJobQueued() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backends backends = mock(Backends.class);
        registryHasAll(backends);
        when(backends.current()).thenReturn(Optional.of(cpu));
        java.util.concurrent.atomic.AtomicBoolean stopping = new java.util.concurrent.atomic.AtomicBoolean();
        JobQueue q = new JobQueue(gen, backends, config(state, 4), stopping::get);
        try {
            q.addBackend(cpu);
            gen.hold = true;
            Job job = q.submit("A", spec(5), MASK);
            await(job, Job.State.RUNNING);
            stopping.set(true); // the framework stops its bundles, the backend's first
            q.removeBackend(cpu);
            await(job, Job.State.QUEUED);
            Path file = state.resolve("jobs").resolve(job.id).resolve("job.json");
            long end = System.currentTimeMillis() + 10_000;
            while (!java.nio.file.Files.readString(file).contains("\"state\":\"queued\"")) {
                assertTrue(System.currentTimeMillis() < end, "the job file does not say queued: " + java.nio.file.Files.readString(file));
                Thread.sleep(5);
            }
        } finally {
            q.deactivate();
        }
    }

    @Test
    void aBackendStoppedMidJobHandsItToTheNextBackend() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backend opencl = backend("opencl");
        Backends backends = mock(Backends.class);
        registryHasAll(backends);
        AtomicReference<Optional<Backend>> current = new AtomicReference<>(Optional.of(cpu));
        when(backends.current()).thenAnswer(i -> current.get());
        JobQueue q = new JobQueue(gen, backends, config(state, 4), () -> false);
        try {
            q.addBackend(cpu);
            q.addBackend(opencl);
            gen.hold = true;
            Job job = q.submit("A", spec(5), MASK);
            await(job, Job.State.RUNNING);
            assertEquals("cpu", job.snapshot(-1).get("backend"));
            current.set(Optional.of(opencl));
            q.removeBackend(cpu);
            long end = System.currentTimeMillis() + 10_000;
            while (!(job.attempts() == 2 && gen.running)) {
                assertTrue(System.currentTimeMillis() < end, "the job did not run again: " + job.snapshot(-1));
                Thread.sleep(5);
            }
            gen.hold = false;
            await(job, Job.State.DONE);
            assertEquals(List.of("5@opencl"), gen.ran);
        } finally {
            q.deactivate();
        }
    }

    @Test
    void queuedAndRunningJobsComeBackAfterARestart() throws Exception {
        FakeGenerator gen = new FakeGenerator();
        Backend cpu = backend("cpu");
        Backends backends = mock(Backends.class);
        registryHasAll(backends);
        when(backends.current()).thenReturn(Optional.of(cpu));
        JobQueue q = new JobQueue(gen, backends, config(state, 4), () -> false);
        q.addBackend(cpu);
        gen.hold = true;
        Job running = q.submit("A", spec(1), MASK);
        Job queued = q.submit("B", spec(2), MASK);
        await(running, Job.State.RUNNING);
        q.deactivate(); // as the framework stops
        assertEquals(Job.State.QUEUED, running.state(), "the running job goes back to the queue");

        gen.hold = false;
        JobQueue again = new JobQueue(gen, backends, config(state, 4), () -> false);
        try {
            assertEquals(2, again.queueDepth());
            assertEquals(2, again.resumed.get());
            again.addBackend(cpu);
            await(again.job(running.id).orElseThrow(), Job.State.DONE);
            await(again.job(queued.id).orElseThrow(), Job.State.DONE);
            assertEquals(List.of("1@cpu", "2@cpu"), gen.ran);
        } finally {
            again.deactivate();
        }
    }

    @Test
    void jsonRoundTrip() {
        Map<?, ?> m = (Map<?, ?>) Json.parse(Json.write(Map.of("a", List.of(1, 2.5, "x\"y\n"), "b", true)));
        assertEquals(List.of(1.0, 2.5, "x\"y\n"), m.get("a"));
        assertEquals(true, m.get("b"));
    }

    /** The backend registry lists every backend the queue is given (its workers take jobs only then). */
    private static void registryHasAll(Backends backends) {
        when(backends.byName(org.mockito.ArgumentMatchers.anyString()))
                .thenAnswer(i -> Optional.of(mock(dev.sisma.engine.spi.Backend.class)));
    }
}
