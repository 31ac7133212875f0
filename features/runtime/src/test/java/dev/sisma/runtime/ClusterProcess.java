package dev.sisma.runtime;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * A sisma cluster command ({@code worker}, {@code sample --cluster}) in a JVM of its own, small
 * as the tests' machines are: one processor, a bounded heap. Its output is collected line by
 * line; {@link #close()} kills it if it still runs, so no test leaves a member behind.
 */
final class ClusterProcess implements AutoCloseable {
    /** Each member a small JVM: several run side by side on a 2-core machine. */
    static final List<String> JVM = List.of("-Xmx320m", "-XX:ActiveProcessorCount=1", "--enable-native-access=ALL-UNNAMED");

    final String name;
    final Process process;
    final List<String> out = new CopyOnWriteArrayList<>();
    final List<String> err = new CopyOnWriteArrayList<>();

    private ClusterProcess(String name, Process process) {
        this.name = name;
        this.process = process;
        read(process.getInputStream(), out);
        read(process.getErrorStream(), err);
    }

    static ClusterProcess start(String name, String... args) throws IOException {
        return new ClusterProcess(name, new ProcessBuilder(ServeProcess.command(JVM, List.of(args))).start());
    }

    /** A worker of cluster {@code cluster} on {@code port}, joining through {@code members}; returns once it has joined. */
    static ClusterProcess worker(String name, String cluster, int port, String members) throws Exception {
        ClusterProcess w = start(name, "worker", "--cluster", cluster, "--port", Integer.toString(port), "--members", members, "--lease", "6");
        w.await(l -> l.contains("waiting for work"), 120_000);
        return w;
    }

    private static void read(InputStream in, List<String> lines) {
        Thread t = new Thread(() -> {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(line);
                }
            } catch (IOException e) {
                // the process is gone
            }
        });
        t.setDaemon(true);
        t.start();
    }

    /** Waits for a line of stdout; fails with everything the process said when none comes in time or it exits. */
    String await(Predicate<String> line, long millis) throws InterruptedException {
        long end = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < end) {
            for (String l : out) {
                if (line.test(l)) {
                    return l;
                }
            }
            if (!process.isAlive() && out.stream().noneMatch(line)) {
                Thread.sleep(200); // the last lines
                if (out.stream().noneMatch(line)) {
                    throw new AssertionError(name + " exited (" + process.exitValue() + ") without the line: " + this);
                }
            }
            Thread.sleep(50);
        }
        throw new AssertionError(name + ": no such line within " + millis + " ms: " + this);
    }

    /** Waits for the process to end; returns its exit code. */
    int exit(long millis) throws InterruptedException {
        if (!process.waitFor(millis, TimeUnit.MILLISECONDS)) {
            throw new AssertionError(name + " did not end within " + millis + " ms: " + this);
        }
        return process.exitValue();
    }

    /** SIGKILL, as a machine that dies or an out-of-memory kill. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(30, TimeUnit.SECONDS);
    }

    /** How often {@code text} occurs in stdout. */
    long count(String text) {
        return out.stream().filter(l -> l.contains(text)).count();
    }

    static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroy();
            if (!process.waitFor(20, TimeUnit.SECONDS)) {
                kill();
            }
        }
    }

    @Override
    public String toString() {
        List<String> all = new ArrayList<>(out);
        err.stream().filter(l -> !l.startsWith("WARNING: ")).forEach(l -> all.add("err: " + l));
        return name + " " + all;
    }
}
