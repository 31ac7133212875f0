package dev.sisma.server.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.mask.FaceClass;
import dev.sisma.api.mask.Mask;
import dev.sisma.data.dataset.Dataset;
import dev.sisma.data.dataset.Datasets;
import dev.sisma.data.dataset.Split;
import dev.sisma.data.image.ImageFiles;
import dev.sisma.data.mask.ImportedMask;
import dev.sisma.data.mask.MaskFiles;
import dev.sisma.engine.spi.Backend;
import jakarta.servlet.Servlet;
import jakarta.servlet.http.HttpServlet;
import jakarta.servlet.http.HttpServletRequest;
import jakarta.servlet.http.HttpServletResponse;
import jakarta.servlet.http.Part;

/**
 * The JSON API under {@code /api/} (docs/http-api.md). Expected failures are a status and
 * {@code {"error": "one line"}}; nothing answers with a stack trace.
 */
@Component(service = Servlet.class, property = {Http.PATTERN + "=/api/*",
        "osgi.http.whiteboard.servlet.multipart.enabled=true",
        "osgi.http.whiteboard.servlet.multipart.maxFileSize:Long=" + ApiServlet.MULTIPART_MAX,
        "osgi.http.whiteboard.servlet.multipart.maxRequestSize:Long=" + ApiServlet.MULTIPART_MAX,
        "osgi.http.whiteboard.servlet.asyncSupported=true"})
public final class ApiServlet extends HttpServlet {
    private static final long serialVersionUID = 1L;
    /** The multipart parser's own ceiling; the configured upload limit (lower) is checked on top. */
    static final long MULTIPART_MAX = 64L << 20;
    private static final Pattern JOB = Pattern.compile("/api/jobs/([0-9a-f]{16})(/events|/cancel|/samples/(\\d{1,4})\\.png)?");
    private static final Pattern CLIENT = Pattern.compile("[A-Za-z0-9._:-]{1,64}");
    private static final long SSE_KEEPALIVE_MS = 15_000;
    /** Largest JSON request body. */
    private static final int JSON_MAX = 64 * 1024;
    /** A dataset sample's mask is taken at CelebAMask-HQ's own label size; the model resizes it to its own. */
    static final int DATASET_MASK_SIDE = 512;
    private static final int OPEN_DATASETS = 16;

    private final transient JobQueue queue;
    private final transient Datasets datasets;
    private final transient SecureRandom random = new SecureRandom();
    /** Datasets opened for references, by "split reference" (opening one lists its folders). */
    private final transient Map<String, Dataset> opened = new java.util.concurrent.ConcurrentHashMap<>();

    @Activate
    public ApiServlet(@Reference JobQueue queue, @Reference Datasets datasets) {
        this.queue = queue;
        this.datasets = datasets;
    }

    @Override
    protected void service(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        try {
            route(req, resp);
        } catch (MethodNotAllowed e) {
            Http.error(resp, 405, e.getMessage());
        } catch (InputException e) {
            Http.error(resp, 400, e.getMessage());
        } catch (IOException e) {
            // The client went away mid-answer (or the answer could not be written): nothing to tell it.
            if (!resp.isCommitted()) {
                Http.error(resp, 500, "internal error: " + JobQueue.oneLine(e));
            }
        } catch (RuntimeException e) {
            Http.error(resp, 500, "internal error: " + JobQueue.oneLine(e));
        }
    }

    private void route(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        String path = req.getRequestURI();
        String method = req.getMethod();
        switch (path) {
            case "/api/health" -> {
                requireMethod(method, "GET");
                Http.json(resp, 200, Map.of("status", "ok"));
                return;
            }
            case "/api/ready" -> {
                requireMethod(method, "GET");
                String why = queue.notReady();
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("ready", why == null);
                if (why != null) {
                    m.put("reason", why);
                }
                m.put("workers", queue.workerBackends());
                Http.json(resp, why == null ? 200 : 503, m);
                return;
            }
            case "/api/models" -> {
                requireMethod(method, "GET");
                models(resp);
                return;
            }
            case "/api/backends" -> {
                requireMethod(method, "GET");
                backends(resp);
                return;
            }
            case "/api/classes" -> {
                requireMethod(method, "GET");
                List<Map<String, Object>> classes = new ArrayList<>();
                for (FaceClass c : FaceClass.values()) {
                    classes.add(Map.of("index", c.index(), "name", c.partName(), "color", String.format("#%06x", c.rgb())));
                }
                Http.json(resp, 200, Map.of("classes", classes));
                return;
            }
            case "/api/jobs" -> {
                if (method.equals("POST")) {
                    submit(req, resp);
                } else {
                    requireMethod(method, "GET");
                    List<Map<String, Object>> all = new ArrayList<>();
                    for (Job j : queue.jobs()) {
                        all.add(j.snapshot(queue.position(j)));
                    }
                    Http.json(resp, 200, Map.of("jobs", all));
                }
                return;
            }
            default -> {
            }
        }
        Matcher m = JOB.matcher(path);
        if (!m.matches()) {
            Http.error(resp, 404, "no such endpoint: " + path);
            return;
        }
        Optional<Job> found = queue.job(m.group(1));
        if (found.isEmpty()) {
            Http.error(resp, 404, "no job " + m.group(1));
            return;
        }
        Job job = found.get();
        String sub = m.group(2);
        if (sub == null) {
            if (method.equals("DELETE")) {
                Http.json(resp, 200, queue.cancel(job).snapshot(-1));
            } else {
                requireMethod(method, "GET");
                Http.json(resp, 200, job.snapshot(queue.position(job)));
            }
        } else if (sub.equals("/cancel")) {
            requireMethod(method, "POST");
            Http.json(resp, 200, queue.cancel(job).snapshot(-1));
        } else if (sub.equals("/events")) {
            requireMethod(method, "GET");
            events(job, resp);
        } else {
            requireMethod(method, "GET");
            sample(job, Integer.parseInt(m.group(3)), resp);
        }
    }

    private static void requireMethod(String method, String allowed) {
        if (!method.equals(allowed) && !(allowed.equals("GET") && method.equals("HEAD"))) {
            throw new MethodNotAllowed(allowed);
        }
    }

    /** 405, answered by {@link #service}. */
    private static final class MethodNotAllowed extends InputException {
        private static final long serialVersionUID = 1L;

        MethodNotAllowed(String allowed) {
            super("method not allowed here; use " + allowed);
        }
    }

    private void models(HttpServletResponse resp) throws IOException {
        List<Map<String, Object>> list = new ArrayList<>();
        List<String> names = queue.models();
        for (String name : names) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", name);
            m.put("default", name.equals(names.get(0)));
            try {
                queue.generator().defaults(queue.checkpoint(name)).ifPresent(d -> {
                    m.put("sampler", d.sampler());
                    m.put("steps", d.steps());
                    m.put("guidance", d.cfgScale());
                });
            } catch (InputException e) {
                m.put("error", e.getMessage());
            }
            list.add(m);
        }
        Http.json(resp, 200, Map.of("models", list, "samplers", queue.generator().samplers()));
    }

    private void backends(HttpServletResponse resp) throws IOException {
        String current = queue.backends().current().map(Backend::name).orElse(null);
        List<String> workers = queue.workerBackends();
        List<Map<String, Object>> list = new ArrayList<>();
        for (Backend b : queue.backends().all()) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", b.name());
            m.put("device", b.device());
            m.put("current", b.name().equals(current));
            m.put("worker", workers.contains(b.name()));
            list.add(m);
        }
        Http.json(resp, 200, Map.of("backends", list));
    }

    // ---- submit

    private void submit(HttpServletRequest req, HttpServletResponse resp) throws IOException {
        Limits limits = queue.limits();
        String contentType = req.getContentType() == null ? "" : req.getContentType().toLowerCase(java.util.Locale.ROOT);
        long declared = req.getContentLengthLong();
        boolean multipart = contentType.startsWith("multipart/form-data");
        if (declared > limits.maxUploadBytes() + (multipart ? 64 * 1024 : 0)) {
            Http.error(resp, 413, "request body of " + declared + " bytes is larger than the " + limits.maxUploadBytes()
                    + "-byte upload limit");
            return;
        }
        Map<String, String> params = new HashMap<>(Http.query(req.getQueryString()));
        params.remove("token");
        byte[] mask = null;
        if (multipart) {
            List<Part> parts;
            try {
                parts = new ArrayList<>(req.getParts());
            } catch (IllegalStateException e) {
                Http.error(resp, 413, "request body is larger than the " + limits.maxUploadBytes() + "-byte upload limit");
                return;
            } catch (IOException | jakarta.servlet.ServletException | RuntimeException e) {
                Http.error(resp, 400, "malformed multipart/form-data body");
                return;
            }
            for (Part p : parts) {
                try (InputStream in = p.getInputStream()) {
                    if (p.getName().equals("mask")) {
                        mask = Http.readAtMost(in, limits.maxUploadBytes());
                        if (mask == null) {
                            Http.error(resp, 413, "mask upload is larger than the " + limits.maxUploadBytes() + "-byte limit");
                            return;
                        }
                    } else {
                        byte[] v = Http.readAtMost(in, 200);
                        if (v == null) {
                            throw new InputException("form field " + p.getName() + " is too long");
                        }
                        params.put(p.getName(), new String(v, java.nio.charset.StandardCharsets.UTF_8).trim());
                    }
                }
            }
        } else if (contentType.startsWith("application/json")) {
            byte[] body = Http.readAtMost(req.getInputStream(), JSON_MAX);
            if (body == null) {
                Http.error(resp, 413, "JSON body is larger than " + JSON_MAX + " bytes");
                return;
            }
            params.putAll(jsonOptions(body));
        } else if (contentType.startsWith("image/") || contentType.startsWith("application/octet-stream")) {
            mask = Http.readAtMost(req.getInputStream(), limits.maxUploadBytes());
            if (mask == null) {
                Http.error(resp, 413, "request body is larger than the " + limits.maxUploadBytes() + "-byte upload limit");
                return;
            }
        } else if (!(params.containsKey("dataset") && declared <= 0)) {
            Http.error(resp, 415, "send the mask as an image/png body or as multipart/form-data with a part named mask,"
                    + " or a dataset sample as application/json ({\"dataset\": ..., \"index\": N})");
            return;
        }
        String dataset = blankToNull(params.remove("dataset"));
        String index = params.remove("index");
        String split = params.remove("split");
        Mask jobMask;
        boolean farPixels = false;
        long far = 0;
        Job.Spec spec;
        if (dataset != null) {
            if (mask != null && mask.length > 0) {
                throw new InputException("give either a mask image or a dataset sample, not both");
            }
            spec = spec(params, limits);
            jobMask = datasetMask(dataset, index, split);
        } else {
            if (index != null || split != null) {
                throw new InputException("index and split choose a sample of a dataset; name the dataset too");
            }
            if (mask == null || mask.length == 0) {
                throw new InputException("no mask: the request has no mask image (an empty body or no part named mask) and names no dataset");
            }
            spec = spec(params, limits);
            ImportedMask imported = decode(mask, limits);
            jobMask = imported.mask();
            farPixels = imported.fromColour() && imported.farPixels() > 0;
            far = imported.farPixels();
        }
        String client = req.getHeader("X-Sisma-Client");
        if (client == null || !CLIENT.matcher(client).matches()) {
            client = req.getRemoteAddr();
        }
        Job job;
        try {
            job = queue.submit(client, spec, jobMask);
        } catch (QueueFullException e) {
            resp.setHeader("Retry-After", Integer.toString(e.retryAfterSeconds()));
            Http.error(resp, 429, e.getMessage());
            return;
        }
        resp.setHeader("Location", "/api/jobs/" + job.id);
        Map<String, Object> body = job.snapshot(queue.position(job));
        if (farPixels) {
            body.put("warning", far + " mask pixels are far from every palette colour; mapped to the nearest class");
        }
        Http.json(resp, 202, body);
    }

    /** The options of a JSON object body, as strings (numbers without a fraction as integers). */
    private static Map<String, String> jsonOptions(byte[] body) {
        Object v;
        try {
            v = Json.parse(new String(body, java.nio.charset.StandardCharsets.UTF_8));
        } catch (RuntimeException e) {
            throw new InputException("malformed JSON body: " + JobQueue.oneLine(e));
        }
        if (!(v instanceof Map<?, ?> object)) {
            throw new InputException("the JSON body must be an object of options, such as {\"dataset\": \"synthetic\", \"index\": 3}");
        }
        Map<String, String> options = new HashMap<>();
        for (Map.Entry<?, ?> e : object.entrySet()) {
            String key = String.valueOf(e.getKey());
            Object x = e.getValue();
            if (x instanceof String str) {
                options.put(key, str);
            } else if (x instanceof Double d) {
                options.put(key, d == Math.rint(d) && Math.abs(d) < 1e15 ? Long.toString(d.longValue()) : d.toString());
            } else if (x != null) {
                throw new InputException("option " + key + " needs a string or a number");
            }
        }
        return options;
    }

    /**
     * The mask of sample {@code index} of a dataset reference ({@code synthetic}, {@code NAME:PATH}
     * or {@code PATH}), through the registered {@link dev.sisma.data.dataset.DatasetProvider}s. A
     * folder must lie inside the server's data folder ({@code serve --data}); reasons never name
     * the server's folders.
     */
    private Mask datasetMask(String reference, String indexText, String splitText) {
        if (reference.length() > 300) {
            throw new InputException("dataset reference is longer than 300 characters");
        }
        Path root = queue.dataDir();
        Optional<Path> folder = datasets.folder(reference, root != null ? root : Path.of(""));
        if (folder.isPresent()) {
            if (root == null) {
                throw new InputException("dataset '" + reference + "': this server reads no dataset folders (sisma serve --data DIR names one)");
            }
            Path f = folder.get();
            boolean inside = f.startsWith(root);
            try {
                inside &= !Files.exists(f) || f.toRealPath().startsWith(root);
            } catch (IOException e) {
                inside = false;
            }
            if (!inside) {
                throw new InputException("dataset '" + reference + "': the folder is outside the server's data folder");
            }
        }
        Split split;
        try {
            split = splitText == null || splitText.isBlank() ? Split.ALL : Split.parse(splitText.trim());
        } catch (IllegalArgumentException e) {
            throw new InputException("split: " + e.getMessage());
        }
        Map<String, String> p = new HashMap<>();
        if (indexText != null) {
            p.put("index", indexText);
        }
        long index = integer(p, "index", -1, 0, Integer.MAX_VALUE);
        if (index < 0) {
            throw new InputException("index: which sample of dataset '" + reference + "' (0 for the first)");
        }
        try {
            String key = split + " " + reference;
            Dataset d = opened.get(key);
            if (d == null) {
                d = datasets.open(reference, root != null ? root : Path.of(""), split, 0, Map.of());
                if (opened.size() >= OPEN_DATASETS) {
                    opened.clear();
                }
                opened.put(key, d);
            }
            if (index >= d.size()) {
                throw new InputException("index " + index + ": dataset '" + reference + "' (" + split.name().toLowerCase(java.util.Locale.ROOT)
                        + ") has " + d.size() + " samples" + (d.size() > 0 ? " (0.." + (d.size() - 1) + ")" : ""));
            }
            return d.mask((int) index, DATASET_MASK_SIDE);
        } catch (InputException e) {
            throw new InputException(hideFolder(e.getMessage(), root));
        } catch (IllegalArgumentException e) {
            throw new InputException("dataset '" + reference + "': " + hideFolder(JobQueue.oneLine(e), root));
        }
    }

    /** A reason with the server's data folder left out (paths become relative to it). */
    private static String hideFolder(String reason, Path root) {
        if (reason == null || root == null) {
            return String.valueOf(reason);
        }
        return reason.replace(root + java.io.File.separator, "").replace(root.toString(), ".");
    }

    /** The request's options, checked; each refusal names the option. */
    private Job.Spec spec(Map<String, String> p, Limits limits) {
        for (String k : p.keySet()) {
            if (!List.of("samples", "seed", "steps", "sampler", "guidance", "model", "backend").contains(k)) {
                throw new InputException("unknown option '" + k + "' (known: samples, seed, steps, sampler, guidance, model, backend)");
            }
        }
        int samples = (int) integer(p, "samples", 1, 1, limits.maxSamples());
        long seed = p.containsKey("seed") && !p.get("seed").isEmpty() ? integer(p, "seed", 0, Long.MIN_VALUE, Long.MAX_VALUE)
                : Math.floorMod(random.nextLong(), 1_000_000L);
        int steps = (int) integer(p, "steps", 0, 1, limits.maxSteps());
        String sampler = blankToNull(p.get("sampler"));
        if (sampler != null && !queue.generator().samplers().contains(sampler)) {
            throw new InputException("unknown sampler '" + sampler + "'; available: " + queue.generator().samplers());
        }
        double guidance = Double.NaN;
        String g = blankToNull(p.get("guidance"));
        if (g != null) {
            try {
                guidance = Double.parseDouble(g);
            } catch (NumberFormatException e) {
                throw new InputException("guidance needs a number, got '" + g + "'");
            }
            if (!(guidance >= 0) || guidance > 100) {
                throw new InputException("guidance must be a number in 0..100, got " + g);
            }
        }
        String model = blankToNull(p.get("model"));
        queue.checkpoint(model); // refuses an unknown name
        String backend = blankToNull(p.get("backend"));
        if (backend != null) {
            Optional<Backend> b = queue.backends().byName(backend);
            if (b.isEmpty()) {
                throw new InputException("compute backend '" + backend + "' is not registered; available: "
                        + queue.backends().all().stream().map(Backend::name).toList());
            }
            backend = b.get().name();
        }
        return new Job.Spec(samples, seed, steps, sampler, guidance, model, backend);
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.trim();
    }

    /** {@code name} as an integer in {@code min..max}; {@code absent} when missing or empty. */
    private static long integer(Map<String, String> p, String name, long absent, long min, long max) {
        String v = blankToNull(p.get(name));
        if (v == null) {
            return absent;
        }
        long x;
        try {
            x = Long.parseLong(v);
        } catch (NumberFormatException e) {
            throw new InputException(name + " needs an integer, got '" + (v.length() > 40 ? v.substring(0, 40) + "..." : v) + "'");
        }
        if (x < min || x > max) {
            throw new InputException(name + " must be " + min + ".." + max + ", got " + x);
        }
        return x;
    }

    /**
     * The mask through the same checks and decoder as {@code sisma generate} (ImageFiles, MaskFiles),
     * after a size check on the header alone; the one-line reasons name "mask" instead of a file.
     */
    private ImportedMask decode(byte[] bytes, Limits limits) throws IOException {
        Path tmp = queue.uploadsDir().resolve("upload-" + Long.toHexString(random.nextLong()) + ".png");
        Files.write(tmp, bytes);
        try {
            ImageFiles.Header h = ImageFiles.probe(tmp);
            if (h.width() > limits.maxImageSide() || h.height() > limits.maxImageSide()) {
                throw new InputException("mask: " + h.width() + "x" + h.height() + " pixels, more than the " + limits.maxImageSide()
                        + "x" + limits.maxImageSide() + " limit of this server");
            }
            return MaskFiles.read(tmp);
        } catch (InputException e) {
            throw new InputException(e.getMessage().replace(tmp.toString(), "mask"));
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    // ---- results and progress

    private void sample(Job job, int index, HttpServletResponse resp) throws IOException {
        if (job.state() != Job.State.DONE) {
            Http.error(resp, 409, "job " + job.id + " is " + job.state().word() + "; samples exist once it is done");
            return;
        }
        if (index >= job.sampleCount()) {
            Http.error(resp, 404, "job " + job.id + " has " + job.sampleCount() + " samples (0.." + (job.sampleCount() - 1) + ")");
            return;
        }
        Path f = queue.sampleFile(job, index);
        if (!Files.exists(f)) {
            Http.error(resp, 410, "sample " + index + " of job " + job.id + " is gone");
            return;
        }
        resp.setContentType("image/png");
        resp.setHeader("Content-Disposition", "inline; filename=\"sisma-" + job.id + "-" + index + ".png\"");
        resp.setContentLengthLong(Files.size(f));
        Files.copy(f, resp.getOutputStream());
    }

    /** Server-Sent Events: the job's state after every change, until it ends; a comment every 15 s keeps proxies open. */
    private void events(Job job, HttpServletResponse resp) throws IOException {
        resp.setStatus(200);
        resp.setContentType("text/event-stream");
        resp.setCharacterEncoding("UTF-8");
        resp.setHeader("Cache-Control", "no-store");
        resp.setHeader("X-Accel-Buffering", "no");
        PrintWriter w = resp.getWriter();
        long seen = -1;
        try {
            while (true) {
                long v = job.version();
                if (v != seen) {
                    seen = v;
                    Job.State s = job.state();
                    w.write("event: " + (s.terminal() ? "end" : "progress") + "\n");
                    w.write("data: " + Json.write(job.snapshot(queue.position(job))) + "\n\n");
                    w.flush();
                    if (w.checkError()) {
                        return;
                    }
                    if (s.terminal()) {
                        return;
                    }
                }
                long after = job.awaitChange(seen, SSE_KEEPALIVE_MS);
                if (after == seen) {
                    w.write(": keep-alive\n\n");
                    w.flush();
                    if (w.checkError()) {
                        return;
                    }
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
