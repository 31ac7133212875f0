package dev.sisma.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

import jakarta.servlet.http.HttpServletResponse;

/** Shared by the servlets: JSON answers, one-line errors, the query string, bounded body reads. */
final class Http {
    /** The whiteboard property that selects servlet and filter paths. */
    static final String PATTERN = "osgi.http.whiteboard.servlet.pattern";

    private Http() {
    }

    static void json(HttpServletResponse resp, int status, Object body) throws IOException {
        byte[] b = (Json.write(body) + "\n").getBytes(StandardCharsets.UTF_8);
        resp.setStatus(status);
        resp.setContentType("application/json");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.setContentLength(b.length);
        resp.getOutputStream().write(b);
    }

    /** {"error": "one line"}: never a stack trace. */
    static void error(HttpServletResponse resp, int status, String message) throws IOException {
        if (resp.isCommitted()) {
            return;
        }
        resp.resetBuffer(); // the headers set so far (Retry-After, WWW-Authenticate) stay
        json(resp, status, Map.of("error", message));
    }

    /** The query string's parameters (first value of each), decoded; never the body's. */
    static Map<String, String> query(String queryString) {
        Map<String, String> m = new LinkedHashMap<>();
        if (queryString == null || queryString.isEmpty()) {
            return m;
        }
        for (String pair : queryString.split("&")) {
            int eq = pair.indexOf('=');
            String k = eq < 0 ? pair : pair.substring(0, eq);
            String v = eq < 0 ? "" : pair.substring(eq + 1);
            try {
                m.putIfAbsent(URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
            } catch (IllegalArgumentException e) {
                // A malformed escape: the parameter is ignored.
            }
        }
        return m;
    }

    /** Reads at most {@code limit} bytes; null when the stream holds more. */
    static byte[] readAtMost(InputStream in, long limit) throws IOException {
        byte[] b = in.readNBytes((int) Math.min(Integer.MAX_VALUE - 8, limit + 1));
        return b.length > limit ? null : b;
    }

    static void copy(InputStream in, OutputStream out) throws IOException {
        in.transferTo(out);
    }
}
