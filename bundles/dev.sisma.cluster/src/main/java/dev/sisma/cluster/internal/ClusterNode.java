package dev.sisma.cluster.internal;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

import com.hazelcast.cluster.Member;
import com.hazelcast.cluster.MembershipEvent;
import com.hazelcast.cluster.MembershipListener;
import com.hazelcast.config.Config;
import com.hazelcast.config.JoinConfig;
import com.hazelcast.core.Hazelcast;
import com.hazelcast.core.HazelcastInstance;
import com.hazelcast.collection.IQueue;
import com.hazelcast.map.IMap;
import com.hazelcast.partition.Partition;
import com.hazelcast.transaction.TransactionalMap;

/**
 * This process as a member of a Hazelcast cluster, and the distributed structures the cluster's
 * work lives in. A job is a key {@code BATCH/NAME}: its mask in {@link #masks}, its batch's options
 * in {@link #batches}, the key itself in the {@link #work} queue while it waits, in
 * {@link #leases} while a worker holds it, and its images in {@link #results} once done. Every
 * entry has {@code backups} copies on other members, so a member that dies loses no job.
 *
 * <p>Every member reaps: once a second it looks at the leases in its own partitions and queues
 * again each job whose lease ran out (its worker died or hangs) or whose worker left the
 * cluster. The take (queue poll plus lease) and the reap (lease removal plus queue offer) are
 * each one Hazelcast transaction, so a member killed between the two steps neither loses nor
 * doubles a job.
 */
final class ClusterNode implements AutoCloseable {
    static final String WORK = "sisma.work";
    static final String LEASES = "sisma.leases";
    static final String MASKS = "sisma.masks";
    static final String RESULTS = "sisma.results";
    static final String BATCHES = "sisma.batches";
    static final String PROGRESS = "sisma.progress";
    /** Per batch: the keys of its jobs whose result is in, so that its coordinator fetches those and no others. */
    static final String FINISHED = "sisma.finished.";
    static final int RESULT_TTL_SECONDS = 86_400;

    final HazelcastInstance hz;
    final ClusterOptions options;
    final IQueue<String> work;
    final IMap<String, String> leases;
    final IMap<String, byte[]> masks;
    final IMap<String, byte[]> results;
    final IMap<String, String> batches;
    /** Sampler steps of running jobs, "done total secondsPerStep", for those who follow a job (the HTTP server). */
    final IMap<String, String> progress;
    private final java.security.SecureRandom random = new java.security.SecureRandom();
    private final ScheduledExecutorService reaper;

    /** {@code log}: where membership changes are told (one line each). */
    ClusterNode(ClusterOptions options, boolean lite, java.io.PrintStream log) {
        this.options = options;
        Config c = new Config();
        c.setClusterName(options.name());
        c.setClassLoader(ClusterNode.class.getClassLoader());
        c.setLiteMember(lite);
        // No call home, no shutdown hook of its own (the commands leave the cluster in order), JDK logging.
        c.setProperty("hazelcast.phone.home.enabled", "false");
        c.setProperty("hazelcast.shutdownhook.enabled", "false");
        c.setProperty("hazelcast.logging.type", "jdk");
        // Listen on the given address only (loopback unless told otherwise).
        c.setProperty("hazelcast.local.localAddress", options.bind());
        c.setProperty("hazelcast.socket.bind.any", "false");
        // Join in seconds, not the default 5-20 s: a member list is known, there is nothing to wait for.
        c.setProperty("hazelcast.wait.seconds.before.join", "1");
        c.setProperty("hazelcast.max.wait.seconds.before.join", "3");
        // A member that stops answering is dropped after 15 s (default 60): its jobs go to others sooner.
        c.setProperty("hazelcast.heartbeat.interval.seconds", "1");
        c.setProperty("hazelcast.max.no.heartbeat.seconds", "15");
        c.getJetConfig().setEnabled(false);
        c.getNetworkConfig().setPort(options.port()).setPortAutoIncrement(true).setPortCount(100);
        JoinConfig join = c.getNetworkConfig().getJoin();
        join.getMulticastConfig().setEnabled(false);
        join.getAutoDetectionConfig().setEnabled(false);
        join.getTcpIpConfig().setEnabled(true).setMembers(new ArrayList<>(options.members())).setConnectionTimeoutSeconds(2);
        c.getQueueConfig(WORK).setBackupCount(options.backups());
        c.getQueueConfig(FINISHED + "*").setBackupCount(options.backups());
        c.getMapConfig("sisma.*").setBackupCount(options.backups());
        // A coordinator killed mid-batch leaves results nobody collects: they go after a day, progress after an hour.
        c.getMapConfig(RESULTS).setBackupCount(options.backups()).setTimeToLiveSeconds(RESULT_TTL_SECONDS);
        c.getMapConfig(PROGRESS).setBackupCount(options.backups()).setTimeToLiveSeconds(3600);
        hz = Hazelcast.newHazelcastInstance(c);
        work = hz.getQueue(WORK);
        leases = hz.getMap(LEASES);
        masks = hz.getMap(MASKS);
        results = hz.getMap(RESULTS);
        batches = hz.getMap(BATCHES);
        progress = hz.getMap(PROGRESS);
        hz.getCluster().addMembershipListener(new MembershipListener() {
            @Override
            public void memberAdded(MembershipEvent e) {
                // A new worker takes jobs from the queue by itself.
                told(log, e, "joined");
            }

            @Override
            public void memberRemoved(MembershipEvent e) {
                told(log, e, "left");
                reap(e.getMember().getUuid().toString());
            }
        });
        reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "sisma-cluster-reaper");
            t.setDaemon(true);
            return t;
        });
        reaper.scheduleWithFixedDelay(() -> reap(null), 1, 1, TimeUnit.SECONDS);
    }

    private void told(java.io.PrintStream log, MembershipEvent e, String what) {
        Member m = e.getMember();
        log.printf("sisma: %s %s %s cluster '%s' (%d workers now)%n", m.isLiteMember() ? "coordinator" : "worker", address(m), what,
                options.name(), e.getMembers().stream().filter(x -> !x.isLiteMember()).count());
        log.flush();
    }

    /** This member's address as other members reach it, {@code host:port}. */
    String address() {
        return address(hz.getCluster().getLocalMember());
    }

    static String address(Member m) {
        return m.getAddress().getHost() + ":" + m.getAddress().getPort();
    }

    /** The members that hold data and run jobs (every member but lite ones such as a batch's coordinator). */
    List<Member> workers() {
        return hz.getCluster().getMembers().stream().filter(m -> !m.isLiteMember()).toList();
    }

    /** The member whose partition holds the work queue ("?" while none does). */
    String queueOwner() {
        Partition p = hz.getPartitionService().getPartition(WORK);
        Member m = p == null ? null : p.getOwner();
        return m == null ? "?" : address(m);
    }

    long clusterTime() {
        return hz.getCluster().getClusterTime();
    }

    /** A lease value: the holder's member id and address, and the cluster time it runs out at. */
    String lease(String holderName) {
        return hz.getCluster().getLocalMember().getUuid() + " " + holderName + " " + (clusterTime() + options.leaseSeconds() * 1000L);
    }

    static long deadline(String lease) {
        return Long.parseLong(lease.substring(lease.lastIndexOf(' ') + 1));
    }

    /**
     * Takes the next job, waiting up to {@code millis}: the queue poll and the lease are one
     * transaction, so a worker that dies in between leaves the job in the queue. Null when none came.
     */
    String take(String holderName, long millis) {
        return hz.executeTransaction(ctx -> {
            String key;
            try {
                key = ctx.<String>getQueue(WORK).poll(millis, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return null;
            }
            if (key != null) {
                ctx.<String, String>getMap(LEASES).put(key, lease(holderName));
            }
            return key;
        });
    }

    /** Puts a job back in the queue if {@code lease} still holds it and its mask is still wanted. */
    void requeue(String key, String lease) {
        hz.executeTransaction(ctx -> {
            TransactionalMap<String, String> l = ctx.getMap(LEASES);
            if (l.remove(key, lease) && ctx.<String, byte[]>getMap(MASKS).containsKey(key)) {
                ctx.<String>getQueue(WORK).offer(key);
            }
            return null;
        });
    }

    /**
     * Queues again the jobs whose lease ran out, or (with {@code goneMember}) every job a member
     * that left held. Each member looks at its own partitions' leases; lite members own none.
     */
    private void reap(String goneMember) {
        try {
            if (!hz.getLifecycleService().isRunning() || hz.getCluster().getLocalMember().isLiteMember()) {
                return;
            }
            long now = clusterTime();
            for (String key : leases.localKeySet()) {
                String lease = leases.get(key);
                if (lease != null && (deadline(lease) < now || (goneMember != null && lease.startsWith(goneMember + " ")))) {
                    requeue(key, lease);
                }
            }
        } catch (RuntimeException e) {
            // The member is leaving, or a partition is moving: the next round looks again.
        }
    }

    /**
     * Puts a batch into the cluster: its options, then each job's mask, then the jobs' keys into
     * the queue (a worker that takes a key finds its mask). Returns the batch's id.
     */
    String submit(Map<String, String> batchOptions, Map<String, byte[]> masksByName) {
        byte[] raw = new byte[6];
        random.nextBytes(raw);
        String batch = java.util.HexFormat.of().formatHex(raw);
        batches.set(batch, Codec.options(batchOptions));
        Map<String, byte[]> byKey = new java.util.LinkedHashMap<>();
        masksByName.forEach((name, png) -> byKey.put(key(batch, name), png));
        masks.putAll(byKey);
        work.addAll(byKey.keySet());
        return batch;
    }

    /** The keys of a batch's jobs whose result is in (a job that ran twice may come twice). */
    IQueue<String> finished(String batch) {
        return hz.getQueue(FINISHED + batch);
    }

    /** The batch and the masks and results of its jobs in {@code keys} leave the cluster: workers drop those jobs. */
    void forget(String batch, java.util.Collection<String> keys) {
        try {
            if (!hz.getLifecycleService().isRunning()) {
                return;
            }
            for (String k : new ArrayList<>(keys)) {
                masks.delete(k);
                results.delete(k);
                progress.delete(k);
            }
            batches.delete(batch);
            finished(batch).destroy();
        } catch (RuntimeException e) {
            // the cluster is gone: nothing is left behind there either
        }
    }

    /** A job's key: its batch and its name in the batch. */
    static String key(String batch, String name) {
        return batch + "/" + name;
    }

    static String batchOf(String key) {
        return key.substring(0, key.indexOf('/'));
    }

    static String nameOf(String key) {
        return key.substring(key.indexOf('/') + 1);
    }

    Map<String, Integer> counts() {
        return Map.of("queued", work.size(), "running", leases.size(), "results", results.size());
    }

    @Override
    public void close() {
        reaper.shutdownNow();
        try {
            hz.shutdown();
        } catch (RuntimeException e) {
            // gone already
        }
    }
}
