package dev.sisma.server.internal;

import java.io.IOException;
import java.nio.charset.StandardCharsets;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;

/** {@code GET /metrics}: the queue and the jobs in the Prometheus text format. */
@Component(service = Servlet.class, property = Http.PATTERN + "=/metrics")
public final class MetricsServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    private final transient JobQueue queue;

    @Activate
    public MetricsServlet(@Reference JobQueue queue) {
        this.queue = queue;
    }

    @Override
    protected void doGet(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        StringBuilder sb = new StringBuilder();
        gauge(sb, "sisma_queue_depth", "jobs waiting in the queue", queue.queueDepth());
        gauge(sb, "sisma_jobs_running", "jobs running now", queue.running());
        gauge(sb, "sisma_workers", "workers (one per compute backend)", queue.workerBackends().size());
        sb.append("# HELP sisma_jobs_total jobs finished, by outcome\n# TYPE sisma_jobs_total counter\n");
        sb.append("sisma_jobs_total{state=\"done\"} ").append(queue.done.get()).append('\n');
        sb.append("sisma_jobs_total{state=\"failed\"} ").append(queue.failed.get()).append('\n');
        sb.append("sisma_jobs_total{state=\"cancelled\"} ").append(queue.cancelled.get()).append('\n');
        counter(sb, "sisma_jobs_rejected_total", "submissions refused with 429 (queue full)", queue.rejected.get());
        counter(sb, "sisma_jobs_resumed_total", "queued jobs taken up again after a restart", queue.resumed.get());
        sb.append("# HELP sisma_step_seconds time of one sampler step\n# TYPE sisma_step_seconds summary\n");
        sb.append("sisma_step_seconds_sum ").append(queue.stepNanos.get() / 1e9).append('\n');
        sb.append("sisma_step_seconds_count ").append(queue.stepCount.get()).append('\n');
        sb.append("# HELP sisma_job_seconds time from start to end of a job\n# TYPE sisma_job_seconds summary\n");
        sb.append("sisma_job_seconds_sum ").append(queue.jobNanos.get() / 1e9).append('\n');
        sb.append("sisma_job_seconds_count ").append(queue.done.get() + queue.failed.get() + queue.cancelled.get()).append('\n');
        byte[] b = sb.toString().getBytes(StandardCharsets.UTF_8);
        resp.setContentType("text/plain; version=0.0.4; charset=utf-8");
        resp.setContentLength(b.length);
        resp.getOutputStream().write(b);
    }

    private static void gauge(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" gauge\n")
                .append(name).append(' ').append(v).append('\n');
    }

    private static void counter(StringBuilder sb, String name, String help, long v) {
        sb.append("# HELP ").append(name).append(' ').append(help).append("\n# TYPE ").append(name).append(" counter\n")
                .append(name).append(' ').append(v).append('\n');
    }
}
