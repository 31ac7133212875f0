package dev.sisma.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** The web page: plain HTML, JS and CSS from this bundle, at {@code /}. */
@Component(service = Servlet.class, property = Http.PATTERN + "=/")
public final class PageServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private static final Map<String, String> FILES = Map.of("/", "index.html", "/index.html", "index.html",
            "/app.js", "app.js", "/app.css", "app.css");

    @Activate
    public PageServlet(@Reference JobQueue queue) {
        // Shown only while the server runs (the queue exists only then).
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String name = FILES.get(req.getRequestURI());
        if (name == null) {
            Http.error(resp, 404, "no such page: " + req.getRequestURI());
            return;
        }
        try (InputStream in = PageServlet.class.getResourceAsStream("/dev/sisma/server/web/" + name)) {
            if (in == null) {
                Http.error(resp, 404, "no such page: " + req.getRequestURI());
                return;
            }
            resp.setContentType(name.endsWith(".html") ? "text/html; charset=utf-8"
                    : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8");
            resp.setHeader("Cache-Control", "no-cache");
            resp.setHeader("X-Content-Type-Options", "nosniff");
            resp.setHeader("Content-Security-Policy", "default-src 'self'; img-src 'self' blob: data:; style-src 'self'");
            Http.copy(in, resp.getOutputStream());
        }
    }
}
