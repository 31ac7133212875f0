package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.BufferedReader;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

import javax.imageio.ImageIO;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code sisma serve} as a client sees it, on a loopback port: the API end to end, bad and
 * oversized uploads, a full queue, a restart with jobs queued, and a short load test. Each server
 * is a real container in its own JVM, stopped with SIGTERM.
 */
@Timeout(value = 5, unit = TimeUnit.MINUTES)
class ServeTest {
    static ServeProcess server;
    static byte[] face;

    @BeforeAll
    static void start(@TempDir Path state) throws Exception {
        face = Files.readAllBytes(Path.of(System.getProperty("sisma.examples")).resolve("face-1.png"));
        server = ServeProcess.start(state, "--queue", "4", "--max-upload", "65536", "--data", System.getProperty("sisma.testdata"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (server != null) {
            int code = server.stop();
            assertTrue(code == 0 || code == 143, "exit code after SIGTERM: " + code);
        }
    }

    @Test
    void aJobGoesFromUploadToPngsWithProgressEvents() throws Exception {
        assertTrue(server.out.stream().anyMatch(l -> l.contains("API token (shown once")), server.out.toString());
        assertEquals("rw-------", PosixFilePermissions.toString(Files.getPosixFilePermissions(server.state.resolve("token"))));
        assertEquals(200, server.get("/api/health").statusCode());
        assertEquals(200, server.get("/api/ready").statusCode());
        assertTrue(server.get("/api/models").body().contains("\"default\":true"));
        assertTrue(server.get("/api/backends").body().contains("\"name\":\"cpu\""));

        HttpResponse<String> r = server.submit(face, Map.of("samples", "2", "steps", "2", "seed", "7", "sampler", "euler"), null);
        assertEquals(202, r.statusCode(), r.body());
        String id = ServeProcess.field(r.body(), "id");
        assertTrue(r.headers().firstValue("Location").orElse("").endsWith("/api/jobs/" + id));

        // Server-Sent Events until the end event.
        HttpResponse<InputStream> sse = server.http.send(server.request("/api/jobs/" + id + "/events").GET().build(),
                HttpResponse.BodyHandlers.ofInputStream());
        assertEquals("text/event-stream", sse.headers().firstValue("Content-Type").orElse("").split(";")[0]);
        List<String> events = new ArrayList<>();
        String last = null;
        try (BufferedReader in = new BufferedReader(new InputStreamReader(sse.body(), StandardCharsets.UTF_8))) {
            for (String line; (line = in.readLine()) != null; ) {
                if (line.startsWith("event: ")) {
                    events.add(line.substring(7));
                } else if (line.startsWith("data: ")) {
                    last = line.substring(6);
                }
            }
        }
        assertEquals("end", events.get(events.size() - 1), events.toString());
        assertEquals("done", ServeProcess.field(last, "state"), last);

        for (int i = 0; i < 2; i++) {
            HttpResponse<byte[]> png = server.getBytes("/api/jobs/" + id + "/samples/" + i + ".png");
            assertEquals(200, png.statusCode());
            assertEquals("image/png", png.headers().firstValue("Content-Type").orElse(""));
            BufferedImage img = ImageIO.read(new ByteArrayInputStream(png.body()));
            assertEquals(32, img.getWidth(), "the demo model paints 32x32");
        }
        assertEquals(404, server.get("/api/jobs/" + id + "/samples/2.png").statusCode());
        assertTrue(server.get("/api/jobs/" + id).body().contains("\"seed\":8"), "sample 1 has seed 7 + 1");

        // The same mask as a raw image/png body, options in the query string.
        HttpResponse<String> raw = server.post("/api/jobs?samples=1&steps=1", "image/png", face);
        assertEquals(202, raw.statusCode(), raw.body());
        assertEquals("done", ServeProcess.field(server.await(ServeProcess.field(raw.body(), "id"), 60_000), "state"));

        String metrics = server.get("/metrics").body();
        assertTrue(metrics.contains("sisma_queue_depth "), metrics);
        assertTrue(metrics.lines().anyMatch(l -> l.startsWith("sisma_jobs_total{state=\"done\"} ") && !l.endsWith(" 0")), metrics);
        assertTrue(metrics.contains("sisma_step_seconds_count "), metrics);
    }

    @Test
    void withoutTheTokenOnlyTheProbesAnswer() throws Exception {
        var noToken = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base + "api/models")).build();
        HttpResponse<String> r = server.http.send(noToken, HttpResponse.BodyHandlers.ofString());
        assertEquals(401, r.statusCode());
        assertTrue(r.headers().firstValue("WWW-Authenticate").isPresent());
        var wrong = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base + "metrics")).header("Authorization", "Bearer nope").build();
        assertEquals(401, server.http.send(wrong, HttpResponse.BodyHandlers.ofString()).statusCode());
        var health = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base + "api/health")).build();
        assertEquals(200, server.http.send(health, HttpResponse.BodyHandlers.ofString()).statusCode());
        var page = java.net.http.HttpRequest.newBuilder(java.net.URI.create(server.base)).build();
        HttpResponse<String> html = server.http.send(page, HttpResponse.BodyHandlers.ofString());
        assertEquals(200, html.statusCode());
        assertTrue(html.body().contains("<canvas"), html.body());
    }

    @Test
    void badUploadsAreOneLine400sAndOversizedOnes413() throws Exception {
        byte[] truncated = Arrays.copyOf(face, face.length / 2);
        assertOneLine(server.post("/api/jobs", "image/png", "not a png at all".getBytes()), 400, "mask");
        assertOneLine(server.post("/api/jobs", "image/png", truncated), 400, "truncated PNG");
        assertOneLine(server.submit(greyPng(16, 200), Map.of(), null), 400, "class values above 18");
        assertOneLine(server.submit(pngClaiming(3000, 3000), Map.of(), null), 400, "limit");
        assertOneLine(server.submit(face, Map.of("samples", "0"), null), 400, "samples must be");
        assertOneLine(server.submit(face, Map.of("steps", "lots"), null), 400, "steps needs an integer");
        assertOneLine(server.submit(face, Map.of("sampler", "nope"), null), 400, "unknown sampler");
        assertOneLine(server.submit(face, Map.of("colour", "red"), null), 400, "unknown option");
        assertOneLine(server.submit(face, Map.of("backend", "quantum"), null), 400, "not registered");
        assertOneLine(server.post("/api/jobs", "text/plain", face), 415, "image/png");
        assertOneLine(server.post("/api/jobs", "image/png", new byte[0]), 400, "no mask");
        assertOneLine(server.post("/api/jobs", "image/png", new byte[100_000]), 413, "upload limit");
        assertOneLine(server.submit(new byte[100_000], Map.of(), null), 413, "limit");
        assertOneLine(server.post("/api/health", "image/png", face), 405, "GET");
        assertOneLine(server.get("/api/jobs/0123456789abcdef"), 404, "no job");
        assertOneLine(server.get("/api/nothing"), 404, "no such endpoint");
        // Malformed multipart: a boundary that never comes (no part can be read, so no mask).
        assertOneLine(server.post("/api/jobs", "multipart/form-data; boundary=xyz", "garbage without boundary".getBytes()), 400, "mask");
        assertEquals(0, server.get("/metrics").body().lines().filter(l -> l.startsWith("sisma_queue_depth")).mapToInt(l -> Integer.parseInt(l.split(" ")[1])).sum());
    }

    @Test
    void aJobTakesItsMaskFromADatasetSample() throws Exception {
        HttpResponse<String> r = server.post("/api/jobs", "application/json",
                "{\"dataset\": \"celebamask-hq:celebamask-hq-mini\", \"index\": 2, \"steps\": 1, \"seed\": 3}".getBytes());
        assertEquals(202, r.statusCode(), r.body());
        assertEquals("done", ServeProcess.field(server.await(ServeProcess.field(r.body(), "id"), 60_000), "state"));
        assertEquals(200, server.getBytes("/api/jobs/" + ServeProcess.field(r.body(), "id") + "/samples/0.png").statusCode());
        // A dataset without a folder, options in the query string and no body at all.
        HttpResponse<String> q = server.http.send(server.request("/api/jobs?dataset=synthetic&index=5&split=test&steps=1")
                .POST(java.net.http.HttpRequest.BodyPublishers.noBody()).build(), HttpResponse.BodyHandlers.ofString());
        assertEquals(202, q.statusCode(), q.body());
        assertEquals("done", ServeProcess.field(server.await(ServeProcess.field(q.body(), "id"), 60_000), "state"));
        // The same reference as form fields of a multipart body without a mask part.
        assertEquals(202, server.submitFields(Map.of("dataset", "celebamask-hq-mini", "index", "0", "steps", "1")).statusCode());

        String testdata = Path.of(System.getProperty("sisma.testdata")).toRealPath().toString();
        for (var bad : List.of(
                List.of("{\"dataset\": \"celebamask-hq:celebamask-hq-mini\", \"index\": 3}", "has 3 samples (0..2)"),
                List.of("{\"dataset\": \"celebamask-hq:celebamask-hq-mini\"}", "index"),
                List.of("{\"dataset\": \"celebamask-hq:celebamask-hq-mini\", \"index\": -1}", "index must be"),
                List.of("{\"dataset\": \"celebamask-hq:celebamask-hq-mini\", \"index\": 0, \"split\": \"val\"}", "split"),
                List.of("{\"dataset\": \"celebamask-hq:..\", \"index\": 0}", "outside the server's data folder"),
                List.of("{\"dataset\": \"/etc\", \"index\": 0}", "outside the server's data folder"),
                List.of("{\"dataset\": \"celebamask-hq:nothing-here\", \"index\": 0}", "nothing-here"),
                List.of("{\"dataset\": \"no-such-set\", \"index\": 0}", "no dataset of that name"),
                List.of("{\"dataset\": \"celebamask-hq-mini/labels\", \"index\": 0}", "not a dataset folder"),
                List.of("{\"dataset\": \"synthetic\", \"index\": 0, \"colour\": 1}", "unknown option"),
                List.of("{\"index\": 0}", "name the dataset too"),
                List.of("{\"dataset\": [1]}", "string or a number"),
                List.of("[1, 2]", "must be an object"),
                List.of("{\"dataset\": ", "malformed JSON"))) {
            HttpResponse<String> b = server.post("/api/jobs", "application/json", bad.get(0).getBytes());
            assertOneLine(b, 400, bad.get(1));
            assertFalse(b.body().contains(testdata), b.body());
        }
        Map<String, String> both = Map.of("dataset", "synthetic", "index", "1");
        assertOneLine(server.submit(face, both, null), 400, "not both");
    }

    private static void assertOneLine(HttpResponse<String> r, int status, String words) {
        assertEquals(status, r.statusCode(), r.body());
        String body = r.body().trim();
        assertTrue(body.startsWith("{\"error\":\"") && body.contains(words), body);
        assertFalse(body.contains("\n") || body.contains("Exception") || body.contains("\tat ") || body.contains("/tmp/"), body);
    }

    @Test
    void aFullQueueAnswers429WithRetryAfter() throws Exception {
        List<String> ids = new ArrayList<>();
        // One long job keeps the worker busy while the queue (4) fills up.
        HttpResponse<String> busy = server.submit(face, Map.of("samples", "16", "steps", "250"), "filler");
        assertEquals(202, busy.statusCode(), busy.body());
        ids.add(ServeProcess.field(busy.body(), "id"));
        long end = System.currentTimeMillis() + 30_000;
        while (!"running".equals(ServeProcess.field(server.get("/api/jobs/" + ids.get(0)).body(), "state"))) {
            assertTrue(System.currentTimeMillis() < end, "the long job did not start");
            Thread.sleep(50);
        }
        HttpResponse<String> r;
        int accepted = 0;
        while ((r = server.submit(face, Map.of("steps", "1"), "filler")).statusCode() == 202) {
            ids.add(ServeProcess.field(r.body(), "id"));
            assertTrue(++accepted <= 4, "the queue took more than its capacity");
        }
        assertEquals(4, accepted);
        assertEquals(429, r.statusCode(), r.body());
        int retry = Integer.parseInt(r.headers().firstValue("Retry-After").orElseThrow());
        assertTrue(retry >= 1 && retry <= 120, "Retry-After " + retry);
        assertTrue(server.get("/metrics").body().contains("sisma_queue_depth 4"));
        for (String id : ids) {
            HttpResponse<String> c = server.http.send(server.request("/api/jobs/" + id).DELETE().build(), HttpResponse.BodyHandlers.ofString());
            assertEquals(200, c.statusCode(), c.body());
        }
        for (String id : ids) {
            assertEquals("cancelled", ServeProcess.field(server.await(id, 60_000), "state"));
        }
    }

    /**
     * N clients submit M jobs each at the same time: every job is either refused with 429 or
     * completes, exactly once; throughput and latency percentiles go to the test output.
     */
    @Test
    void concurrentClientsLoseAndDuplicateNoJob() throws Exception {
        int clients = 4;
        int jobsEach = 4;
        int rejectedBefore = server.get("/metrics").body().lines().filter(l -> l.startsWith("sisma_jobs_rejected_total "))
                .mapToInt(l -> Integer.parseInt(l.split(" ")[1])).sum();
        ExecutorService pool = Executors.newFixedThreadPool(clients);
        long t0 = System.nanoTime();
        List<Future<List<long[]>>> results = new ArrayList<>();
        List<String> accepted = Collections.synchronizedList(new ArrayList<>());
        List<Integer> refused = Collections.synchronizedList(new ArrayList<>());
        for (int c = 0; c < clients; c++) {
            String client = "load-" + c;
            results.add(pool.submit(() -> {
                // Each client sends all its jobs at once, then waits for the ones taken.
                List<String[]> mine = new ArrayList<>();
                for (int j = 0; j < jobsEach; j++) {
                    HttpResponse<String> r = server.submit(face, Map.of("steps", "1", "seed", Integer.toString(j)), client);
                    if (r.statusCode() == 429) {
                        assertTrue(r.headers().firstValue("Retry-After").isPresent());
                        refused.add(1);
                        continue;
                    }
                    assertEquals(202, r.statusCode(), r.body());
                    String id = ServeProcess.field(r.body(), "id");
                    accepted.add(id);
                    mine.add(new String[] {id, Long.toString(System.nanoTime())});
                }
                List<long[]> latencies = new ArrayList<>();
                for (String[] m : mine) {
                    assertEquals("done", ServeProcess.field(server.await(m[0], 120_000), "state"));
                    latencies.add(new long[] {System.nanoTime() - Long.parseLong(m[1])});
                }
                return latencies;
            }));
        }
        List<Long> lat = new ArrayList<>();
        for (Future<List<long[]>> f : results) {
            f.get(4, TimeUnit.MINUTES).forEach(l -> lat.add(l[0]));
        }
        pool.shutdown();
        double seconds = (System.nanoTime() - t0) / 1e9;
        assertEquals(clients * jobsEach, accepted.size() + refused.size(), "every submit was accepted or refused");
        Set<String> unique = new HashSet<>(accepted);
        assertEquals(accepted.size(), unique.size(), "no job id twice");
        assertFalse(accepted.isEmpty());
        assertEquals(refused.size(), server.get("/metrics").body().lines().filter(l -> l.startsWith("sisma_jobs_rejected_total "))
                .mapToInt(l -> Integer.parseInt(l.split(" ")[1])).sum() - rejectedBefore, "every refusal counted once");
        String list = server.get("/api/jobs").body();
        for (String id : accepted) {
            assertTrue(list.contains("\"id\":\"" + id + "\",\"state\":\"done\""), id + " not done in the list");
        }
        Collections.sort(lat);
        System.out.printf("serve load: %d clients x %d jobs (1 step, 1 sample): %d done, %d refused (429) in %.1f s, %.2f jobs/s;"
                + " submit-to-done latency p50 %.0f ms, p95 %.0f ms, max %.0f ms%n", clients, jobsEach, accepted.size(), refused.size(),
                seconds, accepted.size() / seconds, pct(lat, 0.5), pct(lat, 0.95), lat.get(lat.size() - 1) / 1e6);
    }

    private static double pct(List<Long> sorted, double p) {
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.floor(p * sorted.size()))) / 1e6;
    }

    /** Clients that send half a request and stall hold a connection each, nothing more: the others are served. */
    @Test
    void slowClientsDoNotStallTheOthers() throws Exception {
        java.net.URI uri = java.net.URI.create(server.base);
        List<java.net.Socket> stalled = new ArrayList<>();
        try {
            for (int i = 0; i < 8; i++) {
                java.net.Socket s = new java.net.Socket(uri.getHost(), uri.getPort());
                String head = i % 2 == 0
                        ? "POST /api/jobs HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + server.token
                                + "\r\nContent-Type: image/png\r\nContent-Length: 60000\r\n\r\n\u0089PNG"
                        : "GET /api/health HTTP/1.1\r\nHost: x\r\nX-Half: ";
                s.getOutputStream().write(head.getBytes(StandardCharsets.ISO_8859_1));
                s.getOutputStream().flush();
                stalled.add(s);
            }
            long t0 = System.nanoTime();
            assertEquals(200, server.get("/api/health").statusCode());
            HttpResponse<String> r = server.post("/api/jobs?steps=1", "image/png", face);
            assertEquals(202, r.statusCode(), r.body());
            assertEquals("done", ServeProcess.field(server.await(ServeProcess.field(r.body(), "id"), 60_000), "state"));
            assertTrue(System.nanoTime() - t0 < 60_000_000_000L);
        } finally {
            for (java.net.Socket s : stalled) {
                s.close();
            }
        }
    }

    /** SIGTERM with a job running and one queued; after the restart both are there and the queued one completes. */
    @Test
    void queuedJobsSurviveARestart(@TempDir Path state) throws Exception {
        String running;
        String queued;
        try (ServeProcess s = ServeProcess.start(state, "--queue", "8")) {
            HttpResponse<String> a = s.submit(face, Map.of("samples", "16", "steps", "250"), "restart");
            running = ServeProcess.field(a.body(), "id");
            long end = System.currentTimeMillis() + 30_000;
            while (!"running".equals(ServeProcess.field(s.get("/api/jobs/" + running).body(), "state"))) {
                assertTrue(System.currentTimeMillis() < end, "the long job did not start");
                Thread.sleep(50);
            }
            HttpResponse<String> b = s.submit(face, Map.of("steps", "2", "seed", "11"), "restart");
            assertEquals(202, b.statusCode(), b.body());
            queued = ServeProcess.field(b.body(), "id");
            int code = s.stop();
            assertTrue(code == 0 || code == 143, "exit code after SIGTERM: " + code);
        }
        for (String id : List.of(running, queued)) {
            String file = Files.readString(state.resolve("jobs").resolve(id).resolve("job.json"));
            assertTrue(file.contains("\"state\":\"queued\""), file);
        }
        try (ServeProcess s = ServeProcess.start(state, "--queue", "8")) {
            assertFalse(s.out.stream().anyMatch(l -> l.contains("shown once")), "the token is shown on the first start only");
            s.http.send(s.request("/api/jobs/" + running).DELETE().build(), HttpResponse.BodyHandlers.ofString());
            String done = s.await(queued, 120_000);
            assertEquals("done", ServeProcess.field(done, "state"), done);
            assertEquals(200, s.getBytes("/api/jobs/" + queued + "/samples/0.png").statusCode());
            assertTrue(s.get("/metrics").body().contains("sisma_jobs_resumed_total 2"));
        }
    }

    /** SIGKILL with a job running and one queued: nothing is lost; the restarted container runs both again. */
    @Test
    void aKilledContainerRunsItsJobsAfterARestart(@TempDir Path state) throws Exception {
        String running;
        String queued;
        try (ServeProcess s = ServeProcess.start(state, "--queue", "8")) {
            running = ServeProcess.field(s.submit(face, Map.of("samples", "16", "steps", "250"), "crash").body(), "id");
            long end = System.currentTimeMillis() + 30_000;
            while (!"running".equals(ServeProcess.field(s.get("/api/jobs/" + running).body(), "state"))) {
                assertTrue(System.currentTimeMillis() < end, "the long job did not start");
                Thread.sleep(50);
            }
            queued = ServeProcess.field(s.submit(face, Map.of("steps", "2", "seed", "12"), "crash").body(), "id");
            s.kill();
        }
        try (ServeProcess s = ServeProcess.start(state, "--queue", "8")) {
            String again = s.get("/api/jobs/" + running).body();
            assertTrue(List.of("queued", "running").contains(ServeProcess.field(again, "state")), "the killed job runs again: " + again);
            s.http.send(s.request("/api/jobs/" + running).DELETE().build(), HttpResponse.BodyHandlers.ofString());
            String done = s.await(queued, 120_000);
            assertEquals("done", ServeProcess.field(done, "state"), done);
            assertEquals(200, s.getBytes("/api/jobs/" + queued + "/samples/0.png").statusCode());
        }
    }

    static byte[] greyPng(int size, int value) throws Exception {
        BufferedImage img = new BufferedImage(size, size, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < size; y++) {
            for (int x = 0; x < size; x++) {
                img.getRaster().setSample(x, y, 0, value);
            }
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ImageIO.write(img, "png", out);
        return out.toByteArray();
    }

    /** A small valid PNG whose header claims w x h (IHDR rewritten, CRC fixed). */
    static byte[] pngClaiming(int w, int h) throws Exception {
        byte[] b = greyPng(4, 1);
        java.nio.ByteBuffer buf = java.nio.ByteBuffer.wrap(b);
        buf.putInt(16, w);
        buf.putInt(20, h);
        java.util.zip.CRC32 crc = new java.util.zip.CRC32();
        crc.update(b, 12, 17);
        buf.putInt(29, (int) crc.getValue());
        return b;
    }
}
