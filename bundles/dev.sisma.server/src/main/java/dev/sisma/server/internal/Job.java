package dev.sisma.server.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * One generation job: what was asked, who asked, and where it is. Mutated by the queue under the
 * job's own lock; readers take {@link #snapshot()}. Waiters (Server-Sent Events) block in
 * {@link #awaitChange}.
 */
final class Job {
    enum State {
        QUEUED, RUNNING, DONE, FAILED, CANCELLED;

        boolean terminal() {
            return this == DONE || this == FAILED || this == CANCELLED;
        }

        String word() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** What the client asked for (validated). {@code model} is a model name; null fields leave it to the model. */
    record Spec(int samples, long seed, int steps, String sampler, double guidance, String model, String backend) {
        Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("samples", samples);
            m.put("seed", seed);
            m.put("steps", steps);
            m.put("sampler", sampler);
            m.put("guidance", Double.isNaN(guidance) ? null : guidance);
            m.put("model", model);
            m.put("backend", backend);
            return m;
        }

        static Spec fromMap(Map<?, ?> m) {
            Object g = m.get("guidance");
            return new Spec(((Number) m.get("samples")).intValue(), ((Number) m.get("seed")).longValue(),
                    ((Number) m.get("steps")).intValue(), (String) m.get("sampler"),
                    g == null ? Double.NaN : ((Number) g).doubleValue(), (String) m.get("model"), (String) m.get("backend"));
        }
    }

    final String id;
    final long seq;
    final String client;
    final long createdMillis;
    final Spec spec;

    private State state = State.QUEUED;
    private int step;
    private int totalSteps;
    private double secondsPerStep;
    private String error;
    private String ranOn;
    private int attempts;
    private long startedMillis;
    private long finishedMillis;
    private final List<Long> sampleSeeds = new ArrayList<>();
    private long version;
    private volatile boolean cancelRequested;

    Job(String id, long seq, String client, long createdMillis, Spec spec) {
        this.id = id;
        this.seq = seq;
        this.client = client;
        this.createdMillis = createdMillis;
        this.spec = spec;
    }

    synchronized State state() {
        return state;
    }

    synchronized int attempts() {
        return attempts;
    }

    boolean cancelRequested() {
        return cancelRequested;
    }

    void requestCancel() {
        cancelRequested = true;
    }

    synchronized void started(String backend, long now) {
        state = State.RUNNING;
        ranOn = backend;
        attempts++;
        startedMillis = now;
        step = 0;
        changed();
    }

    synchronized void progress(int done, int total, double sps) {
        step = done;
        totalSteps = total;
        secondsPerStep = sps;
        changed();
    }

    synchronized void requeued() {
        state = State.QUEUED;
        step = 0;
        changed();
    }

    synchronized void finished(State s, String reason, List<Long> seeds, long now) {
        state = s;
        error = reason;
        if (seeds != null) {
            sampleSeeds.clear();
            sampleSeeds.addAll(seeds);
        }
        finishedMillis = now;
        changed();
    }

    synchronized long startedMillis() {
        return startedMillis;
    }

    synchronized long finishedMillis() {
        return finishedMillis;
    }

    synchronized int sampleCount() {
        return sampleSeeds.size();
    }

    private void changed() {
        version++;
        notifyAll();
    }

    synchronized long version() {
        return version;
    }

    /** Waits until the job changed after {@code seen} or {@code millis} passed; returns the version now. */
    synchronized long awaitChange(long seen, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (version == seen && !state.terminal()) {
            long left = end - System.currentTimeMillis();
            if (left <= 0) {
                break;
            }
            wait(left);
        }
        return version;
    }

    /** The job as the API shows it; {@code queuePosition} is -1 when not queued. */
    synchronized Map<String, Object> snapshot(int queuePosition) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("state", state.word());
        m.put("created", java.time.Instant.ofEpochMilli(createdMillis).toString());
        if (queuePosition >= 0) {
            m.put("queue_position", queuePosition);
        }
        Map<String, Object> p = new LinkedHashMap<>();
        p.put("step", step);
        p.put("total", totalSteps);
        p.put("fraction", state == State.DONE ? 1.0 : totalSteps == 0 ? 0.0 : (double) step / totalSteps);
        p.put("seconds_per_step", secondsPerStep);
        m.put("progress", p);
        m.put("request", spec.toMap());
        if (ranOn != null) {
            m.put("backend", ranOn);
        }
        if (error != null) {
            m.put("error", error);
        }
        List<Map<String, Object>> samples = new ArrayList<>();
        for (int i = 0; i < sampleSeeds.size(); i++) {
            Map<String, Object> s = new LinkedHashMap<>();
            s.put("index", i);
            s.put("seed", sampleSeeds.get(i));
            s.put("url", "/api/jobs/" + id + "/samples/" + i + ".png");
            samples.add(s);
        }
        m.put("samples", samples);
        return m;
    }

    /** What the job file keeps: enough to resume a queued job and to serve a finished one. */
    synchronized Map<String, Object> toFile() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", id);
        m.put("seq", seq);
        m.put("client", client);
        m.put("created", createdMillis);
        m.put("state", state.word());
        m.put("request", spec.toMap());
        m.put("error", error);
        m.put("backend", ranOn);
        m.put("finished", finishedMillis);
        m.put("seeds", new ArrayList<>(sampleSeeds));
        return m;
    }

    static Job fromFile(Map<?, ?> m) {
        Job j = new Job((String) m.get("id"), ((Number) m.get("seq")).longValue(), (String) m.get("client"),
                ((Number) m.get("created")).longValue(), Spec.fromMap((Map<?, ?>) m.get("request")));
        State s = State.valueOf(((String) m.get("state")).toUpperCase(java.util.Locale.ROOT));
        // A job that was running when the container went down runs again from the start.
        j.state = s == State.RUNNING ? State.QUEUED : s;
        j.error = (String) m.get("error");
        j.ranOn = (String) m.get("backend");
        Object f = m.get("finished");
        j.finishedMillis = f == null ? 0 : ((Number) f).longValue();
        Object seeds = m.get("seeds");
        if (seeds instanceof List<?> l) {
            for (Object o : l) {
                j.sampleSeeds.add(((Number) o).longValue());
            }
        }
        return j;
    }
}
