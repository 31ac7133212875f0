package dev.sisma.server.internal;

import java.io.IOException;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Filter;
import jakarta.servlet.FilterChain;
import jakarta.servlet.ServletException;
import jakarta.servlet.ServletRequest;
import jakarta.servlet.ServletResponse;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/**
 * The API token check, in front of everything under {@code /api/} and {@code /metrics} (endpoints
 * other bundles add there too), except the health and readiness probes. The token comes as
 * {@code Authorization: Bearer TOKEN}, or as {@code ?token=TOKEN} where a browser cannot set a
 * header (EventSource, an image link).
 */
@Component(service = Filter.class, property = {"osgi.http.whiteboard.filter.pattern=/api/*",
        "osgi.http.whiteboard.filter.pattern=/metrics"})
public final class AuthFilter implements Filter {
    private final JobQueue queue;

    @Activate
    public AuthFilter(@Reference JobQueue queue) {
        this.queue = queue;
    }

    @Override
    public void doFilter(ServletRequest request, ServletResponse response, FilterChain chain) throws IOException, ServletException {
        HttpServletRequest req = (HttpServletRequest) request;
        HttpServletResponse resp = (HttpServletResponse) response;
        String path = req.getRequestURI();
        if (!queue.authRequired() || path.equals("/api/health") || path.equals("/api/ready")) {
            chain.doFilter(request, response);
            return;
        }
        String given = null;
        String header = req.getHeader("Authorization");
        if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
            given = header.substring(7).trim();
        } else {
            given = Http.query(req.getQueryString()).get("token");
        }
        if (!Token.matches(queue.token(), given)) {
            resp.setHeader("WWW-Authenticate", "Bearer realm=\"sisma\"");
            Http.error(resp, 401, given == null ? "an API token is required: send Authorization: Bearer TOKEN (sisma serve printed it; it is in its state folder)"
                    : "the API token is wrong");
            return;
        }
        chain.doFilter(request, response);
    }
}
