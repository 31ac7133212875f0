package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.BufferedReader;
import java.io.ByteArrayOutputStream;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** {@code sisma serve} in a JVM of its own on a free loopback port, and a small HTTP client for it. */
final class ServeProcess implements AutoCloseable {
    private static final Pattern LISTENING = Pattern.compile("listening on (http://127\\.0\\.0\\.1:(\\d+)/)");

    final Process process;
    final String base;
    final String token;
    final Path state;
    final List<String> out = new CopyOnWriteArrayList<>();
    final CompletableFuture<String> err;
    final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private ServeProcess(Process process, String base, String token, Path state, CompletableFuture<String> err) {
        this.process = process;
        this.base = base;
        this.token = token;
        this.state = state;
        this.err = err;
    }

    /** The command line of a container in a JVM of its own running a sisma command: {@code jvm} options, then {@code args}. */
    static List<String> command(List<String> jvm, List<String> args) {
        Path runtime = Path.of(System.getProperty("sisma.runtime"));
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        List<String> cmd = new ArrayList<>(List.of(java, "--add-modules", "jdk.incubator.vector", "-Dsisma.runtime=" + runtime));
        cmd.addAll(jvm);
        cmd.addAll(List.of("-cp", runtime.resolve("lib/org.apache.felix.framework.jar") + File.pathSeparator
                + runtime.resolve("lib/dev.sisma.launcher.jar"), "dev.sisma.launcher.Launcher"));
        cmd.addAll(args);
        return cmd;
    }

    static ServeProcess start(Path state, String... extra) throws Exception {
        List<String> args = new ArrayList<>(List.of("serve", "--port", "0", "--state-dir", state.toString()));
        args.addAll(List.of(extra));
        List<String> cmd = command(List.of(), args);
        Process p = new ProcessBuilder(cmd).start();
        CompletableFuture<String> err = CompletableFuture.supplyAsync(() -> {
            try {
                return new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
            } catch (IOException e) {
                return "";
            }
        });
        List<String> lines = new CopyOnWriteArrayList<>();
        CompletableFuture<String> url = new CompletableFuture<>();
        Thread reader = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                    Matcher m = LISTENING.matcher(line);
                    if (m.find()) {
                        url.complete(m.group(1));
                    }
                }
            } catch (IOException e) {
                // the process is gone
            }
            url.complete(null);
        });
        reader.setDaemon(true);
        reader.start();
        String base = url.get(90, TimeUnit.SECONDS);
        if (base == null) {
            p.destroyForcibly();
            throw new AssertionError("sisma serve did not come up: " + lines + " " + err.get(10, TimeUnit.SECONDS));
        }
        Path tokenFile = state.resolve("token");
        String token = Files.exists(tokenFile) ? Files.readString(tokenFile).trim() : null;
        ServeProcess s = new ServeProcess(p, base, token, state, err);
        s.out.addAll(lines);
        return s;
    }

    /** SIGKILL: the container dies at once, as on a crash or an out-of-memory kill. */
    void kill() throws Exception {
        process.destroyForcibly();
        assertTrue(process.waitFor(30, TimeUnit.SECONDS), "sisma serve did not die on SIGKILL");
    }

    /** SIGTERM, as a service manager stops it; returns the exit code. */
    int stop() throws Exception {
        process.destroy();
        if (!process.waitFor(60, TimeUnit.SECONDS)) {
            process.destroyForcibly();
            throw new AssertionError("sisma serve did not stop within 60 s of SIGTERM");
        }
        return process.exitValue();
    }

    @Override
    public void close() throws Exception {
        if (process.isAlive()) {
            stop();
        }
    }

    HttpRequest.Builder request(String path) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(base + path.replaceFirst("^/", ""))).timeout(Duration.ofSeconds(60));
        if (token != null) {
            b.header("Authorization", "Bearer " + token);
        }
        return b;
    }

    HttpResponse<String> get(String path) throws Exception {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    HttpResponse<byte[]> getBytes(String path) throws Exception {
        return http.send(request(path).GET().build(), HttpResponse.BodyHandlers.ofByteArray());
    }

    HttpResponse<String> post(String path, String contentType, byte[] body) throws Exception {
        return http.send(request(path).header("Content-Type", contentType).POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart/form-data submit: the mask as the part "mask", the fields as text parts. */
    HttpResponse<String> submit(byte[] mask, Map<String, String> fields, String client) throws Exception {
        String boundary = "sismaBoundary" + System.nanoTime();
        ByteArrayOutputStream b = new ByteArrayOutputStream();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            b.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"" + f.getKey() + "\"\r\n\r\n" + f.getValue() + "\r\n")
                    .getBytes(StandardCharsets.UTF_8));
        }
        b.write(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"mask\"; filename=\"mask.png\"\r\nContent-Type: image/png\r\n\r\n")
                .getBytes(StandardCharsets.UTF_8));
        b.write(mask);
        b.write(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.UTF_8));
        HttpRequest.Builder r = request("/api/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofByteArray(b.toByteArray()));
        if (client != null) {
            r.header("X-Sisma-Client", client);
        }
        return http.send(r.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A multipart/form-data submit of text fields only (a job whose mask comes from a dataset). */
    HttpResponse<String> submitFields(Map<String, String> fields) throws Exception {
        String boundary = "sismaBoundary" + System.nanoTime();
        StringBuilder b = new StringBuilder();
        for (Map.Entry<String, String> f : fields.entrySet()) {
            b.append("--").append(boundary).append("\r\nContent-Disposition: form-data; name=\"").append(f.getKey()).append("\"\r\n\r\n")
                    .append(f.getValue()).append("\r\n");
        }
        b.append("--").append(boundary).append("--\r\n");
        return http.send(request("/api/jobs").header("Content-Type", "multipart/form-data; boundary=" + boundary)
                .POST(HttpRequest.BodyPublishers.ofString(b.toString())).build(), HttpResponse.BodyHandlers.ofString());
    }

    /** A string field of a flat JSON answer (enough for ids and states). */
    static String field(String json, String name) {
        Matcher m = Pattern.compile("\"" + name + "\":\"([^\"]*)\"").matcher(json);
        return m.find() ? m.group(1) : null;
    }

    /** Polls a job until it is done, failed or cancelled; returns its last JSON. */
    String await(String id, long millis) throws Exception {
        long end = System.currentTimeMillis() + millis;
        String body = "";
        while (System.currentTimeMillis() < end) {
            body = get("/api/jobs/" + id).body();
            String s = field(body, "state");
            if ("done".equals(s) || "failed".equals(s) || "cancelled".equals(s)) {
                return body;
            }
            Thread.sleep(100);
        }
        throw new AssertionError("job " + id + " did not finish within " + millis + " ms: " + body);
    }
}
