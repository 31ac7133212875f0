package dev.sisma.runtime;

import static org.junit.jupiter.api.Assertions.assertNotNull;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.function.Function;

import org.osgi.framework.BundleContext;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;

/** A sisma command run inside a container the test started, through the CLI bundle's main function as the launcher calls it. */
final class ContainerCli {
    /** Exit code and captured output; plain fields, as the tests read them. */
    static final class Result {
        final int code;
        final String out;
        final String err;

        Result(int code, String out, String err) {
            this.code = code;
            this.out = out;
            this.err = err;
        }
    }

    private ContainerCli() {
    }

    /** Runs {@code args} with System.out and System.err captured (one command at a time: they are process-wide). */
    @SuppressWarnings("unchecked")
    static synchronized Result run(BundleContext context, String... args) {
        try {
            ServiceReference<?>[] refs = context.getAllServiceReferences(Function.class.getName(), "(sisma.main=true)");
            assertNotNull(refs, "the CLI main service is not registered");
            Function<String[], Integer> main = (Function<String[], Integer>) context.getService(refs[0]);
            PrintStream out = System.out;
            PrintStream err = System.err;
            ByteArrayOutputStream o = new ByteArrayOutputStream();
            ByteArrayOutputStream e = new ByteArrayOutputStream();
            try {
                System.setOut(new PrintStream(o, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(e, true, StandardCharsets.UTF_8));
                int code = main.apply(args);
                return new Result(code, o.toString(StandardCharsets.UTF_8), e.toString(StandardCharsets.UTF_8));
            } finally {
                System.setOut(out);
                System.setErr(err);
                context.ungetService(refs[0]);
            }
        } catch (InvalidSyntaxException ex) {
            throw new AssertionError(ex);
        }
    }
}
