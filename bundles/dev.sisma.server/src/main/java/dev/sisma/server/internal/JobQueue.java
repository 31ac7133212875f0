package dev.sisma.server.internal;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.BooleanSupplier;
import java.util.stream.Stream;

import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.ConfigurationPolicy;
import org.osgi.service.component.annotations.Deactivate;
import org.osgi.service.component.annotations.Reference;
import org.osgi.service.component.annotations.ReferenceCardinality;
import org.osgi.service.component.annotations.ReferencePolicy;
import org.osgi.service.component.annotations.ReferencePolicyOption;
import org.osgi.service.metatype.annotations.Designate;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GeneratedImage;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.api.generate.Generator;
import dev.sisma.api.generate.Progress;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.engine.Backends;
import dev.sisma.engine.spi.Backend;

/**
 * The bounded job queue behind the HTTP API. Jobs wait per client; workers take them round-robin
 * across clients (one job of each client with work, in turn), so a client that submits many
 * cannot starve one that submits few. One worker per compute backend: a job that names a backend
 * waits for that backend's worker, the others go to the worker of the backend in use. A backend
 * that goes away mid-job stops its worker; its job runs again on the backend in use then (once),
 * or fails saying so. Every job is on disk ({@link JobStore}); after a restart the queued ones
 * (and the one that was running) run again.
 *
 * <p>Configuration-required (PID {@value #PID}): it exists only while {@code sisma serve} runs.
 */
@Component(service = JobQueue.class, configurationPid = JobQueue.PID, configurationPolicy = ConfigurationPolicy.REQUIRE)
@Designate(ocd = ServerConfig.class)
public final class JobQueue {
    public static final String PID = "dev.sisma.server";
    static final String DEMO_MODEL = "demo";

    private final Generator generator;
    private final Backends backends;
    private final JobStore store;
    private final Path stateDir;
    private final boolean auth;
    private final Limits limits;
    private final int keepFinished;
    private final Path modelsDir;
    private final Path dataDir;
    /** The format of the model's Linear weights for every job (sisma serve --weights), or null for the generator's default. */
    private final WeightFormat weights;
    /** Workers per backend: 1 on one machine; with a cluster's generator, as many jobs as may wait on the cluster at once. */
    private final int slots;

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition changed = lock.newCondition();
    /** Queued jobs per client, clients in round-robin order (the one served last goes to the end). Guarded by lock. */
    private final LinkedHashMap<String, ArrayDeque<Job>> queued = new LinkedHashMap<>();
    private final Map<String, Job> jobs = new ConcurrentHashMap<>();
    /** Guarded by lock. */
    private final Map<String, Worker> workers = new LinkedHashMap<>();
    /** Every worker started, also those whose backend went away and that still finish their job. Guarded by lock. */
    private final List<Worker> started = new ArrayList<>();
    private int queuedCount;        // guarded by lock
    private long nextSeq;           // guarded by lock
    private volatile boolean closing;
    private final BooleanSupplier frameworkStopping;
    private final SecureRandom random = new SecureRandom();

    final AtomicLong done = new AtomicLong();
    final AtomicLong failed = new AtomicLong();
    final AtomicLong cancelled = new AtomicLong();
    final AtomicLong rejected = new AtomicLong();
    final AtomicLong stepCount = new AtomicLong();
    final AtomicLong stepNanos = new AtomicLong();
    final AtomicLong jobNanos = new AtomicLong();
    final AtomicLong resumed = new AtomicLong();

    /**
     * The generator reference is named so that configuration can target it: {@code sisma serve
     * --cluster} sets {@code generator.target} to the cluster's generator.
     */
    @Activate
    public JobQueue(BundleContext context, @Reference(name = "generator") Generator generator, @Reference Backends backends, ServerConfig config)
            throws IOException {
        this(generator, backends, config, () -> context.getBundle(0).getState() == Bundle.STOPPING);
    }

    /** {@code frameworkStopping}: true while the container shuts down (its backends go away then too). */
    JobQueue(Generator generator, Backends backends, ServerConfig config, BooleanSupplier frameworkStopping) throws IOException {
        this.frameworkStopping = frameworkStopping;
        this.generator = generator;
        this.backends = backends;
        this.stateDir = Path.of(config.state_dir());
        this.auth = config.auth();
        this.limits = new Limits(config.max_upload_bytes(), config.max_image_side(), config.max_samples(), config.max_steps(),
                config.queue_capacity());
        this.keepFinished = config.keep_finished();
        this.modelsDir = config.models_dir().isBlank() ? null : Path.of(config.models_dir());
        this.dataDir = config.data_dir().isBlank() ? null : Path.of(config.data_dir()).toAbsolutePath().normalize();
        this.weights = config.weights().isBlank() ? null : WeightFormat.parse(config.weights());
        this.slots = Math.max(1, config.worker_slots());
        Token.ownerOnlyDirectory(stateDir);
        this.store = new JobStore(stateDir);
        List<Job> finished = new ArrayList<>();
        for (Job j : store.loadAll()) {
            jobs.put(j.id, j);
            nextSeq = Math.max(nextSeq, j.seq + 1);
            if (j.state() == Job.State.QUEUED) {
                queued.computeIfAbsent(j.client, c -> new ArrayDeque<>()).add(j);
                queuedCount++;
                resumed.incrementAndGet();
            } else {
                finished.add(j);
            }
        }
        prune(finished);
    }

    @Reference(cardinality = ReferenceCardinality.MULTIPLE, policy = ReferencePolicy.DYNAMIC, policyOption = ReferencePolicyOption.GREEDY)
    void addBackend(Backend backend) {
        lock.lock();
        try {
            if (closing || workers.containsKey(backend.name())) {
                return;
            }
            Worker w = new Worker(backend.name(), 0);
            workers.put(backend.name(), w);
            started.removeIf(s -> !s.thread.isAlive());
            started.add(w);
            w.thread.start();
            // Further slots take the same backend's jobs; they stop with the first (removeBackend).
            for (int i = 1; i < slots; i++) {
                Worker sibling = new Worker(backend.name(), i);
                started.add(sibling);
                sibling.thread.start();
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    void removeBackend(Backend backend) {
        lock.lock();
        try {
            if (workers.remove(backend.name()) != null) {
                for (Worker w : started) {
                    if (w.backend.equals(backend.name())) {
                        w.gone = true;
                        w.stopped = true;
                    }
                }
            }
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    @Deactivate
    void deactivate() {
        List<Worker> all;
        lock.lock();
        try {
            closing = true;
            all = new ArrayList<>(started);
            all.forEach(w -> w.stopped = true);
            workers.clear();
            changed.signalAll();
        } finally {
            lock.unlock();
        }
        for (Worker w : all) {
            try {
                w.thread.join(15_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    // ---- what the API asks

    boolean authRequired() {
        return auth;
    }

    /** The token clients must send, or null when the server runs without auth. */
    String token() throws IOException {
        return auth ? Token.read(stateDir) : null;
    }

    Limits limits() {
        return limits;
    }

    Generator generator() {
        return generator;
    }

    Backends backends() {
        return backends;
    }

    /** The folder dataset references resolve in ({@code serve --data}), or null when none was given. */
    Path dataDir() {
        return dataDir;
    }

    Path uploadsDir() throws IOException {
        Path d = stateDir.resolve("uploads");
        Files.createDirectories(d);
        return d;
    }

    /**
     * Model names: the generator's own (the first is the default), then NAME for each
     * NAME.safetensors in the models folder. "demo" names the default when the generator names none.
     */
    List<String> models() {
        List<String> names = new ArrayList<>(generator.models());
        if (names.isEmpty()) {
            names.add(DEMO_MODEL);
        }
        if (modelsDir != null && Files.isDirectory(modelsDir)) {
            try (Stream<Path> files = Files.list(modelsDir)) {
                files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".safetensors"))
                        .map(n -> n.substring(0, n.length() - ".safetensors".length())).sorted()
                        .filter(n -> !names.contains(n)).toList().forEach(names::add);
            } catch (IOException e) {
                // No further models then.
            }
        }
        return names;
    }

    /** The checkpoint of a listed model name; null for the generator's default model. */
    Path checkpoint(String model) {
        if (model == null || (model.equals(DEMO_MODEL) && !generator.models().contains(DEMO_MODEL))) {
            return null;
        }
        if (generator.models().contains(model)) {
            return generator.model(model).orElse(null);
        }
        if (!models().contains(model)) {
            throw new InputException("unknown model '" + model + "'; available: " + models());
        }
        return modelsDir.resolve(model + ".safetensors");
    }

    /** Backend names with a worker. */
    List<String> workerBackends() {
        lock.lock();
        try {
            return new ArrayList<>(workers.keySet());
        } finally {
            lock.unlock();
        }
    }

    /** Null when ready, else why not. */
    String notReady() {
        if (closing) {
            return "the server is stopping";
        }
        if (backends.current().isEmpty()) {
            return "no compute backend is registered";
        }
        if (workerBackends().isEmpty()) {
            return "no worker is running";
        }
        return null;
    }

    Optional<Job> job(String id) {
        return Optional.ofNullable(id == null ? null : jobs.get(id));
    }

    List<Job> jobs() {
        List<Job> all = new ArrayList<>(jobs.values());
        all.sort((a, b) -> Long.compare(a.seq, b.seq));
        return all;
    }

    int queueDepth() {
        lock.lock();
        try {
            return queuedCount;
        } finally {
            lock.unlock();
        }
    }

    int running() {
        int n = 0;
        for (Job j : jobs.values()) {
            if (j.state() == Job.State.RUNNING) {
                n++;
            }
        }
        return n;
    }

    /** How many jobs run before this queued one (over all clients, in the order the workers will take them); -1 if not queued. */
    int position(Job job) {
        lock.lock();
        try {
            if (job.state() != Job.State.QUEUED) {
                return -1;
            }
            // Round-robin: the job's rank r in its client's queue means about r turns of every client ahead of it.
            ArrayDeque<Job> own = queued.get(job.client);
            if (own == null) {
                return -1;
            }
            int rank = 0;
            for (Job j : own) {
                if (j == job) {
                    break;
                }
                rank++;
            }
            int ahead = 0;
            int clientIndex = 0;
            int ownIndex = new ArrayList<>(queued.keySet()).indexOf(job.client);
            for (ArrayDeque<Job> q : queued.values()) {
                ahead += Math.min(q.size(), clientIndex < ownIndex ? rank + 1 : rank);
                clientIndex++;
            }
            return ahead;
        } finally {
            lock.unlock();
        }
    }

    /** Puts a validated job in the queue, on disk first. */
    Job submit(String client, Job.Spec spec, Mask mask) throws QueueFullException, IOException {
        lock.lock();
        try {
            if (closing) {
                throw new QueueFullException(queuedCount, 5);
            }
            if (queuedCount >= limits.queueCapacity()) {
                rejected.incrementAndGet();
                throw new QueueFullException(queuedCount, retryAfterSeconds());
            }
            byte[] raw = new byte[8];
            random.nextBytes(raw);
            Job job = new Job(HexFormat.of().formatHex(raw), nextSeq++, client, System.currentTimeMillis(), spec);
            store.create(job, mask);
            jobs.put(job.id, job);
            queued.computeIfAbsent(client, c -> new ArrayDeque<>()).add(job);
            queuedCount++;
            changed.signalAll();
            return job;
        } finally {
            lock.unlock();
        }
    }

    /** Cancels a queued job at once, a running one at its next step; a finished job stays as it is. */
    Job cancel(Job job) throws IOException {
        lock.lock();
        try {
            if (job.state() == Job.State.QUEUED) {
                ArrayDeque<Job> q = queued.get(job.client);
                if (q != null && q.remove(job)) {
                    queuedCount--;
                    if (q.isEmpty()) {
                        queued.remove(job.client);
                    }
                }
                job.finished(Job.State.CANCELLED, "cancelled while queued", null, System.currentTimeMillis());
                cancelled.incrementAndGet();
                store.save(job);
            } else if (job.state() == Job.State.RUNNING) {
                job.requestCancel();
            }
            return job;
        } finally {
            lock.unlock();
        }
    }

    Path sampleFile(Job job, int index) {
        return store.sample(job.id, index);
    }

    /** Roughly when a slot frees: the mean job time times the jobs ahead, per worker; 1..120 s. */
    int retryAfterSeconds() {
        long n = done.get() + failed.get();
        double mean = n == 0 ? 2.0 : jobNanos.get() / 1e9 / n;
        int w = Math.max(1, workers.size());
        return (int) Math.max(1, Math.min(120, Math.ceil(mean * Math.max(1, queuedCount) / w / 4)));
    }

    // ---- the workers

    /** The next job this worker may run, round-robin over clients; null when the worker is to stop. */
    private Job next(Worker w) throws InterruptedException {
        lock.lock();
        try {
            while (!w.stopped) {
                if (backends.byName(w.backend).isEmpty()) {
                    // the queue and the backend registry see a backend come and go each through its
                    // own service reference: until the registry has this one too, a job taken here
                    // would fail for "not registered" (seen once, under load, right after start)
                    changed.await(100, java.util.concurrent.TimeUnit.MILLISECONDS);
                    continue;
                }
                String current = backends.current().map(Backend::name).orElse(null);
                for (Map.Entry<String, ArrayDeque<Job>> e : queued.entrySet()) {
                    for (Job j : e.getValue()) {
                        boolean mine = j.spec.backend() != null ? j.spec.backend().equals(w.backend)
                                : w.backend.equals(current) || (current != null && !workers.containsKey(current) && w == workers.values().iterator().next());
                        if (mine) {
                            ArrayDeque<Job> q = e.getValue();
                            String client = e.getKey();
                            q.remove(j);
                            queuedCount--;
                            queued.remove(client);
                            if (!q.isEmpty()) {
                                queued.put(client, q); // to the end: the other clients go first
                            }
                            return j;
                        }
                    }
                }
                changed.await(1, java.util.concurrent.TimeUnit.SECONDS);
            }
            return null;
        } finally {
            lock.unlock();
        }
    }

    /** Puts a job back at the head of its client's queue. */
    private void requeue(Job job) throws IOException {
        lock.lock();
        try {
            job.requeued();
            ArrayDeque<Job> q = queued.remove(job.client);
            if (q == null) {
                q = new ArrayDeque<>();
            }
            q.addFirst(job);
            // Back to the front of the rotation too: it was taken already.
            LinkedHashMap<String, ArrayDeque<Job>> rest = new LinkedHashMap<>(queued);
            queued.clear();
            queued.put(job.client, q);
            queued.putAll(rest);
            queuedCount++;
            store.save(job);
            changed.signalAll();
        } finally {
            lock.unlock();
        }
    }

    private final class Worker implements Runnable {
        final String backend;
        final Thread thread;
        volatile boolean stopped;
        volatile boolean gone;

        Worker(String backend, int slot) {
            this.backend = backend;
            this.thread = new Thread(this, "sisma-serve-" + backend + (slot == 0 ? "" : "-" + slot));
            this.thread.setDaemon(true);
        }

        @Override
        public void run() {
            try {
                Job job;
                while ((job = next(this)) != null) {
                    runJob(job);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }

        private void runJob(Job job) {
            long t0 = System.nanoTime();
            job.started(backend, System.currentTimeMillis());
            save(job);
            long[] last = {t0};
            Progress progress = new Progress() {
                @Override
                public void step(int doneSteps, int total, double secondsPerStep) {
                    long now = System.nanoTime();
                    stepNanos.addAndGet(now - last[0]);
                    stepCount.incrementAndGet();
                    last[0] = now;
                    job.progress(doneSteps, total, secondsPerStep);
                }

                @Override
                public boolean cancelled() {
                    return job.cancelRequested() || stopped;
                }
            };
            try {
                Mask mask = store.mask(job);
                Job.Spec s = job.spec;
                GenerationRequest request = new GenerationRequest(mask, s.samples(), s.seed(), s.steps(), s.sampler(),
                        s.guidance(), checkpoint(s.model()), backend, null, weights);
                List<GeneratedImage> images = generator.generate(request, progress);
                List<Long> seeds = new ArrayList<>();
                for (int i = 0; i < images.size(); i++) {
                    GeneratedImage g = images.get(i);
                    BufferedImage img = new BufferedImage(g.width(), g.height(), BufferedImage.TYPE_INT_RGB);
                    img.setRGB(0, 0, g.width(), g.height(), g.rgb(), 0, g.width());
                    ImageFiles.writePng(img, store.sample(job.id, i));
                    seeds.add(g.seed());
                }
                job.finished(Job.State.DONE, null, seeds, System.currentTimeMillis());
                done.incrementAndGet();
                jobNanos.addAndGet(System.nanoTime() - t0);
                save(job);
                pruneFinished();
            } catch (RuntimeException | IOException | Error e) {
                if (stopped && (closing || frameworkStopping.getAsBoolean())) {
                    // The container is stopping (its backends with it): the job runs again after the restart.
                    try {
                        requeue(job);
                    } catch (IOException io) {
                        // It stays RUNNING on disk, which resumes as queued too.
                    }
                    return;
                }
                String reason;
                Job.State state = Job.State.FAILED;
                if (job.cancelRequested()) {
                    state = Job.State.CANCELLED;
                    reason = "cancelled while running";
                } else if (gone) {
                    boolean another = backends.current().isPresent() && !workerBackends().isEmpty();
                    if (job.spec.backend() == null && another && job.attempts() < 2) {
                        try {
                            requeue(job);
                            return;
                        } catch (IOException io) {
                            // fall through to failing it
                        }
                    }
                    reason = "the compute backend '" + backend + "' was stopped while the job ran"
                            + (job.spec.backend() != null ? "" : another ? " twice" : " and no other backend is registered");
                } else if (e instanceof InputException || e instanceof IllegalArgumentException) {
                    reason = oneLine(e);
                } else if (e instanceof CancellationException) {
                    reason = "stopped";
                } else {
                    reason = "generation failed: " + oneLine(e);
                }
                // Clients see the job, not the server's folders.
                reason = reason.replace(stateDir.toAbsolutePath().toString(), "<state>");
                job.finished(state, reason, null, System.currentTimeMillis());
                (state == Job.State.CANCELLED ? cancelled : failed).incrementAndGet();
                jobNanos.addAndGet(System.nanoTime() - t0);
                save(job);
            }
        }
    }

    private void save(Job job) {
        try {
            store.save(job);
        } catch (IOException e) {
            // The job goes on in memory; the next state change writes it again.
        }
    }

    static String oneLine(Throwable e) {
        String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int nl = m.indexOf('\n');
        return nl >= 0 ? m.substring(0, nl) : m;
    }

    private void pruneFinished() {
        List<Job> finished = new ArrayList<>();
        for (Job j : jobs()) {
            if (j.state().terminal()) {
                finished.add(j);
            }
        }
        prune(finished);
    }

    /** Deletes the oldest finished jobs beyond {@code keep.finished}; {@code finished} is in submit order. */
    private void prune(List<Job> finished) {
        for (int i = 0; i < finished.size() - keepFinished; i++) {
            Job j = finished.get(i);
            jobs.remove(j.id);
            store.delete(j.id);
        }
    }
}
