package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * A sisma cluster under faults, each member a real container in a JVM of its own on 127.0.0.1:
 * {@code sample --masks DIR --out DIR --cluster NAME} with workers killed with SIGKILL mid-job, a
 * worker joining mid-run and the member holding the work queue killed. Every output must appear
 * exactly once, and a rerun must find nothing to do. The demo model, few steps, 1 sample per mask.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ClusterTest {
    private static final Pattern QUEUE_HOLDER = Pattern.compile("the queue is held by 127\\.0\\.0\\.1:(\\d+)");
    static Path masks;
    static List<String> names = new ArrayList<>();

    /** Eight masks: the four example faces, twice over under other names. */
    @BeforeAll
    static void masks(@TempDir Path dir) throws Exception {
        masks = dir;
        Path examples = Path.of(System.getProperty("sisma.examples"));
        for (int copy = 0; copy < 2; copy++) {
            for (int i = 1; i <= 4; i++) {
                String name = "m" + copy + "-face-" + i;
                Files.copy(examples.resolve("face-" + i + ".png"), dir.resolve(name + ".png"));
                names.add(name);
            }
        }
    }

    private static ClusterProcess sample(String cluster, Path out, String members) throws Exception {
        return sample(cluster, out, members, 4);
    }

    private static ClusterProcess sample(String cluster, Path out, String members, int steps) throws Exception {
        return ClusterProcess.start("sample", "sample", "--masks", masks.toString(), "--out", out.toString(), "--cluster", cluster,
                "--members", members, "--port", Integer.toString(ClusterProcess.freePort()), "--samples", "1", "--steps",
                Integer.toString(steps), "--sampler", "euler", "--seed", "5");
    }

    /** Every mask has its one sample in {@code out}, and nothing else is there (no temporary or doubled file). */
    private static void assertEveryOutputOnce(Path out, ClusterProcess sample) throws Exception {
        assertOutputs(out);
        for (String n : names) {
            assertEquals(1, sample.count(n + "-s5.png"), n + " reported once: " + sample);
        }
    }

    private static void assertOutputs(Path out) throws Exception {
        Set<String> expected = names.stream().map(n -> n + "-s5.png").collect(Collectors.toCollection(TreeSet::new));
        try (Stream<Path> files = Files.list(out)) {
            assertEquals(expected, files.map(p -> p.getFileName().toString()).collect(Collectors.toCollection(TreeSet::new)));
        }
        for (String n : names) {
            assertTrue(Files.size(out.resolve(n + "-s5.png")) > 100, n);
        }
    }

    private static String members(int... ports) {
        return java.util.Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    }

    @Test
    void aWorkerKilledMidJobHasItsJobDoneElsewhereAndARerunSkipsEverything(@TempDir Path out) throws Exception {
        String cluster = "kill-" + ProcessHandle.current().pid();
        int p1 = ClusterProcess.freePort();
        int p2 = ClusterProcess.freePort();
        try (ClusterProcess w1 = ClusterProcess.worker("w1", cluster, p1, members(p1));
                ClusterProcess w2 = ClusterProcess.worker("w2", cluster, p2, members(p1, p2));
                ClusterProcess s = sample(cluster, out, members(p1, p2))) {
            // w2 dies while it runs its first job: the job's lease runs out and w1 does it.
            String started = w2.await(l -> l.startsWith("sisma worker: started "), 120_000);
            w2.kill();
            String lost = started.substring("sisma worker: started ".length());
            assertEquals(0, s.exit(180_000), s.toString());
            assertEquals(0, w2.count("done " + lost + " "), w2.toString());
            assertTrue(w1.count("done " + lost + " ") == 1, "the killed worker's job is done by the other: " + w1);
            assertEveryOutputOnce(out, s);
            assertTrue(s.out.stream().anyMatch(l -> l.matches("  worker 127\\.0\\.0\\.1:" + p1 + ": \\d+ mask\\(s\\), .*")), s.toString());
        }
        // A rerun finds every output and neither joins the cluster nor writes anything.
        long before = Files.getLastModifiedTime(out.resolve(names.get(0) + "-s5.png")).toMillis();
        try (ClusterProcess again = sample(cluster, out, "127.0.0.1:" + ClusterProcess.freePort())) {
            assertEquals(0, again.exit(120_000), again.toString());
            assertTrue(again.count("have their outputs in") == 1, again.toString());
        }
        assertEquals(before, Files.getLastModifiedTime(out.resolve(names.get(0) + "-s5.png")).toMillis());
        assertOutputs(out);
    }

    @Test
    void aWorkerJoiningMidRunTakesWork(@TempDir Path out) throws Exception {
        String cluster = "join-" + ProcessHandle.current().pid();
        int p1 = ClusterProcess.freePort();
        int p2 = ClusterProcess.freePort();
        // Jobs of 200 steps (seconds each): the batch lasts well beyond the second member's start, even on a loaded machine.
        try (ClusterProcess w1 = ClusterProcess.worker("w1", cluster, p1, members(p1));
                ClusterProcess s = sample(cluster, out, members(p1), 200)) {
            w1.await(l -> l.startsWith("sisma worker: done "), 120_000);
            try (ClusterProcess w2 = ClusterProcess.worker("w2", cluster, p2, members(p1, p2))) {
                assertEquals(0, s.exit(240_000), s.toString());
                assertTrue(w2.count("sisma worker: done ") >= 1, "the member that joined took work: " + w2);
                assertTrue(s.out.stream().anyMatch(l -> l.matches("  worker 127\\.0\\.0\\.1:" + p2 + ": \\d+ mask\\(s\\), .*")), s.toString());
                assertEquals(names.size(), w1.count("sisma worker: done ") + w2.count("sisma worker: done "), w1 + " " + w2);
            }
            assertEveryOutputOnce(out, s);
        }
    }

    @Test
    void theMemberHoldingTheQueueKilledLosesNoJob(@TempDir Path out) throws Exception {
        String cluster = "holder-" + ProcessHandle.current().pid();
        int[] ports = {ClusterProcess.freePort(), ClusterProcess.freePort(), ClusterProcess.freePort()};
        List<ClusterProcess> workers = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                workers.add(ClusterProcess.worker("w" + (i + 1), cluster, ports[i], members(java.util.Arrays.copyOf(ports, i + 1))));
            }
            try (ClusterProcess s = sample(cluster, out, members(ports))) {
                // The coordinator says where the queue is; that member dies at once, its backup takes over.
                String line = null;
                long end = System.currentTimeMillis() + 120_000;
                while (line == null && System.currentTimeMillis() < end) {
                    line = s.err.stream().filter(l -> QUEUE_HOLDER.matcher(l).find()).findFirst().orElse(null);
                    Thread.sleep(20);
                }
                assertTrue(line != null, s.toString());
                Matcher m = QUEUE_HOLDER.matcher(line);
                assertTrue(m.find());
                int holder = Integer.parseInt(m.group(1));
                int index = java.util.Arrays.stream(ports).boxed().toList().indexOf(holder);
                assertTrue(index >= 0, "the queue is on one of the workers: " + line);
                workers.get(index).kill();
                assertEquals(0, s.exit(180_000), s + " " + workers);
                assertEveryOutputOnce(out, s);
            }
        } finally {
            for (ClusterProcess w : workers) {
                w.close();
            }
        }
    }

    @Test
    void serveWithAClusterHasItsJobsRunOnTheWorkers(@TempDir Path state) throws Exception {
        String cluster = "serve-" + ProcessHandle.current().pid();
        int p1 = ClusterProcess.freePort();
        byte[] face = Files.readAllBytes(Path.of(System.getProperty("sisma.examples")).resolve("face-1.png"));
        try (ClusterProcess w1 = ClusterProcess.worker("w1", cluster, p1, members(p1));
                ServeProcess server = ServeProcess.start(state, "--cluster", cluster, "--members", members(p1), "--cluster-port",
                        Integer.toString(ClusterProcess.freePort()), "--cluster-jobs", "4")) {
            List<String> ids = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                var r = server.submit(face, java.util.Map.of("samples", "2", "steps", "3", "seed", Integer.toString(10 * i)), null);
                assertEquals(202, r.statusCode(), r.body());
                ids.add(ServeProcess.field(r.body(), "id"));
            }
            for (String id : ids) {
                String done = server.await(id, 180_000);
                assertEquals("done", ServeProcess.field(done, "state"), done);
                var png = server.getBytes("/api/jobs/" + id + "/samples/1.png");
                assertEquals(200, png.statusCode());
                assertEquals(32, javax.imageio.ImageIO.read(new java.io.ByteArrayInputStream(png.body())).getWidth());
            }
            // The worker ran them (one cluster job each), not the server.
            assertEquals(3, w1.count("sisma worker: done job "), w1.toString());
            // cluster status sees the worker and the server (a member that holds no data), and nothing left to do.
            try (ClusterProcess status = ClusterProcess.start("status", "cluster", "status", "--cluster", cluster, "--members", members(p1),
                    "--port", Integer.toString(ClusterProcess.freePort()))) {
                assertEquals(0, status.exit(120_000), status.toString());
                assertEquals(1, status.count("cluster '" + cluster + "': 2 member(s)"), status.toString());
                assertEquals(1, status.count("  127.0.0.1:" + p1 + "  worker"), status.toString());
                assertEquals(1, status.count("coordinator (holds no data)"), status.toString());
                assertEquals(1, status.count("jobs: 0 queued, 0 running; the queue is held by 127.0.0.1:" + p1), status.toString());
            }
        }
    }
}
