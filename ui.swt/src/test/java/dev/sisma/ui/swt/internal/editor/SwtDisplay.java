package dev.sisma.ui.swt.internal.editor;

import static org.junit.jupiter.api.Assertions.fail;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.BooleanSupplier;

import org.eclipse.swt.widgets.Display;
import org.junit.jupiter.api.Assumptions;

/**
 * One real SWT display for the UI tests, on its own UI thread.
 *
 * <p>Headless choice: the tests start their OWN Xvfb when {@code DISPLAY} is unset, so the plain
 * {@code mvn verify} works in CI without {@code xvfb-run}. They pick a free display number (no
 * {@code /tmp/.X11-unix/X<n>} socket and no {@code /tmp/.X<n>-lock}), start
 * {@code Xvfb :n -screen 0 1600x1200x24 -nolisten tcp -terminate}, and set {@code DISPLAY} in the process
 * environment through libc {@code setenv} (FFM API) before GTK reads it. With {@code DISPLAY} set
 * (e.g. under {@code xvfb-run -a}, or a desktop) that display is used as is.
 *
 * <p>When no display can be had (no Xvfb, no GTK): under {@code CI=true} the tests FAIL; locally
 * they are skipped with a message saying what is missing.
 */
public final class SwtDisplay {
    private static Display display;
    private static Thread uiThread;
    private static String problem;
    private static Process xvfb;

    private SwtDisplay() {
    }

    private static boolean xChecked;

    /**
     * Makes sure an X server is there (starting Xvfb when DISPLAY is unset) without opening an SWT
     * display in this JVM: for tests whose SWT runs elsewhere (inside an OSGi framework).
     */
    public static synchronized void xServer() {
        if (!xChecked && problem == null) {
            try {
                String env = System.getenv("DISPLAY");
                if (env == null || env.isBlank()) {
                    startXvfb();
                }
                xChecked = true;
            } catch (Throwable t) {
                problem = t.getMessage() == null ? t.toString() : t.getMessage();
            }
        }
        if (!xChecked) {
            unavailable();
        }
    }

    private static void unavailable() {
        String msg = "no display for the SWT UI tests: " + problem
                + " (install Debian xvfb and libgtk-3-0, or run under xvfb-run -a)";
        if ("true".equalsIgnoreCase(System.getenv("CI"))) {
            fail(msg);
        }
        Assumptions.abort(msg);
    }

    /** The display, starting Xvfb and the UI thread on first use; fails (CI) or skips (locally) without one. */
    static synchronized Display get() {
        if (display == null && problem == null) {
            try {
                start();
            } catch (Throwable t) {
                problem = t.getMessage() == null ? t.toString() : t.getMessage();
            }
        }
        if (display == null) {
            unavailable();
        }
        return display;
    }

    private static void start() throws Throwable {
        String env = System.getenv("DISPLAY");
        if ((env == null || env.isBlank()) && !xChecked) {
            startXvfb();
        }
        CountDownLatch ready = new CountDownLatch(1);
        AtomicReference<Throwable> error = new AtomicReference<>();
        uiThread = new Thread(() -> {
            Display d;
            try {
                d = new Display();
            } catch (Throwable t) {
                error.set(t);
                ready.countDown();
                return;
            }
            display = d;
            ready.countDown();
            while (!d.isDisposed()) {
                try {
                    if (!d.readAndDispatch()) {
                        d.sleep();
                    }
                } catch (Throwable t) {
                    // A failing listener must not kill the UI thread of the whole test run.
                    t.printStackTrace();
                }
            }
        }, "swt-ui");
        uiThread.setDaemon(true);
        uiThread.start();
        if (!ready.await(30, TimeUnit.SECONDS)) {
            throw new IllegalStateException("the SWT display did not start within 30 s");
        }
        if (error.get() != null) {
            throw new IllegalStateException("SWT could not open the display: " + error.get());
        }
    }

    private static void startXvfb() throws Throwable {
        Path bin = Path.of("/usr/bin/Xvfb");
        if (!Files.isExecutable(bin)) {
            throw new IllegalStateException("DISPLAY is unset and there is no /usr/bin/Xvfb");
        }
        for (int n = 90 + (int) (ProcessHandle.current().pid() % 50); n < 400; n++) {
            if (Files.exists(Path.of("/tmp/.X11-unix/X" + n)) || Files.exists(Path.of("/tmp/.X" + n + "-lock"))) {
                continue;
            }
            Process p = new ProcessBuilder(bin.toString(), ":" + n, "-screen", "0", "1600x1200x24", "-nolisten", "tcp", "-terminate")
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            long deadline = System.nanoTime() + 10_000_000_000L;
            while (p.isAlive() && !Files.exists(Path.of("/tmp/.X11-unix/X" + n)) && System.nanoTime() < deadline) {
                Thread.sleep(20);
            }
            if (p.isAlive() && Files.exists(Path.of("/tmp/.X11-unix/X" + n))) {
                xvfb = p;
                xChecked = true;
                // -terminate: Xvfb exits when our connection closes with the JVM. Killing it from a
                // shutdown hook instead would make GTK see the X server vanish and exit(1) the JVM.
                // The hook only covers the case where no display was ever opened on it.
                Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                    if (display == null) {
                        p.destroy();
                    }
                }));
                setenv("DISPLAY", ":" + n);
                displayName = ":" + n;
                // No accessibility bridge and no D-Bus autolaunch: both would start daemons that
                // connect to this Xvfb and keep it (and themselves) alive after the tests.
                setenv("NO_AT_BRIDGE", "1");
                if (System.getenv("DBUS_SESSION_BUS_ADDRESS") == null) {
                    setenv("DBUS_SESSION_BUS_ADDRESS", "unix:path=/nonexistent/sisma-ui-tests");
                }
                return;
            }
            p.destroy();
            // Lost a race for this number with another process: try the next one.
        }
        throw new IllegalStateException("no free X display number for Xvfb");
    }

    /** GTK reads DISPLAY from the C environment; Java cannot set it, libc's setenv can. */
    private static void setenv(String name, String value) throws Throwable {
        Linker linker = Linker.nativeLinker();
        MethodHandle setenv = linker.downcallHandle(linker.defaultLookup().find("setenv").orElseThrow(),
                FunctionDescriptor.of(ValueLayout.JAVA_INT, ValueLayout.ADDRESS, ValueLayout.ADDRESS, ValueLayout.JAVA_INT));
        try (Arena arena = Arena.ofConfined()) {
            int rc = (int) setenv.invokeExact(arena.allocateFrom(name), arena.allocateFrom(value), 1);
            if (rc != 0) {
                throw new IllegalStateException("setenv(DISPLAY) failed");
            }
        }
    }

    private static String displayName;

    /** The X display the tests use ({@code DISPLAY}, or the own Xvfb's), for child processes; null before {@link #xServer}. */
    static synchronized String displayName() {
        return displayName != null ? displayName : System.getenv("DISPLAY");
    }

    static boolean ownXvfb() {
        return xvfb != null;
    }

    /** Runs on the UI thread and returns the result, rethrowing its failure. */
    static <T> T sync(Callable<T> c) {
        AtomicReference<T> result = new AtomicReference<>();
        AtomicReference<Throwable> error = new AtomicReference<>();
        get().syncExec(() -> {
            try {
                result.set(c.call());
            } catch (Throwable t) {
                error.set(t);
            }
        });
        if (error.get() instanceof RuntimeException r) {
            throw r;
        }
        if (error.get() instanceof Error e) {
            throw e;
        }
        if (error.get() != null) {
            throw new RuntimeException(error.get());
        }
        return result.get();
    }

    static void run(Runnable r) {
        sync(() -> {
            r.run();
            return null;
        });
    }

    /** Lets posted events reach the widgets: they travel through the X server and back. */
    static void settle() {
        for (int i = 0; i < 3; i++) {
            sleep(15);
            run(() -> {
            });
        }
    }

    static void waitFor(String what, long millis, BooleanSupplier condition) {
        long deadline = System.currentTimeMillis() + millis;
        while (System.currentTimeMillis() < deadline) {
            if (sync(condition::getAsBoolean)) {
                return;
            }
            sleep(20);
        }
        fail("timed out after " + millis + " ms waiting for " + what);
    }

    static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
