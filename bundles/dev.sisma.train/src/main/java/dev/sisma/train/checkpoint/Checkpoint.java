package dev.sisma.train.checkpoint;

import java.io.IOException;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.sisma.api.cli.InputException;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.io.SafeTensorsException;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.SafeTensorsWriter;
import dev.sisma.engine.io.TensorInfo;
import dev.sisma.engine.spi.Backend;
import dev.sisma.engine.spi.DeviceBuffer;
import dev.sisma.train.optim.AdamW;
import dev.sisma.train.optim.Ema;

/**
 * Writes and reads training checkpoints (one safetensors file, written atomically).
 *
 * <p>Tensors: every model parameter under its state-dict name; {@code ema.<name>} for the EMA
 * weights; {@code optim.m.<name>} and {@code optim.v.<name>} for AdamW's moments. Metadata
 * (all strings): {@value #KEY_FORMAT} = {@value #FORMAT}, {@value #KEY_VERSION},
 * {@value #KEY_STEP}, {@value #KEY_SEED}, {@value #KEY_RNG} (a JSON description: every random
 * number of step k comes from Philox keyed by (seed, k), so seed and step are the whole state),
 * {@value #KEY_EMA_UPDATES}, {@value #KEY_PARAM_STEPS} (AdamW's per-parameter step counts, a
 * JSON array in parameter order), {@value #KEY_CONFIG} (the model config JSON) and whatever the
 * caller adds (training settings).
 *
 * <p>Reading validates before it changes anything: the format, every expected tensor present,
 * float32 and of the model's shape; every problem is an {@link InputException} of one line naming
 * the file and the problem.
 */
public final class Checkpoint {
    public static final String FORMAT = "sisma-checkpoint";
    public static final String VERSION = "1";
    public static final String KEY_FORMAT = "format";
    public static final String KEY_VERSION = "format_version";
    public static final String KEY_STEP = "step";
    public static final String KEY_SEED = "seed";
    public static final String KEY_RNG = "rng";
    public static final String KEY_EMA_UPDATES = "ema_updates";
    public static final String KEY_PARAM_STEPS = "optim_param_steps";
    /** The model config JSON; the model bundle's key, so its loaders find the config in our files. */
    public static final String KEY_CONFIG = dev.sisma.model.Checkpoints.CONFIG_KEY;
    public static final String EMA_PREFIX = "ema.";
    public static final String M_PREFIX = "optim.m.";
    public static final String V_PREFIX = "optim.v.";

    private Checkpoint() {
    }

    /** What a checkpoint holds besides the tensors. */
    public record Header(long step, long seed, long emaUpdates, String configJson, Map<String, String> metadata) {}

    /**
     * Writes a checkpoint of the current state to {@code file} (atomically: temp file, fsync, rename).
     *
     * @param ema   nullable
     * @param optim nullable
     * @param extra more metadata (training settings), nullable
     */
    public static void save(Path file, Map<String, Parameter> model, Ema ema, AdamW optim, long step, long seed,
                            String configJson, Map<String, String> extra) throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter();
        model.forEach((n, p) -> add(w, n, p.value()));
        if (ema != null) {
            ema.shadows().forEach((n, p) -> add(w, EMA_PREFIX + n, p.value()));
        }
        StringBuilder steps = new StringBuilder("[");
        if (optim != null) {
            for (String n : optim.names()) {
                Tensor v = model.get(n).value();
                add(w, M_PREFIX + n, v.backend(), optim.m(n), v.shape().dims());
                add(w, V_PREFIX + n, v.backend(), optim.v(n), v.shape().dims());
                steps.append(steps.length() > 1 ? "," : "").append(optim.paramStep(n));
            }
        }
        steps.append(']');
        w.putMetadata(KEY_FORMAT, FORMAT);
        w.putMetadata(KEY_VERSION, VERSION);
        w.putMetadata(KEY_STEP, Long.toString(step));
        w.putMetadata(KEY_SEED, Long.toString(seed));
        w.putMetadata(KEY_RNG, "{\"generator\":\"philox4x32-10\",\"seed\":" + seed + ",\"next_step\":" + (step + 1)
                + ",\"rule\":\"every random number of step k is keyed by (seed, k)\"}");
        if (ema != null) {
            w.putMetadata(KEY_EMA_UPDATES, Long.toString(ema.updates()));
        }
        if (optim != null) {
            w.putMetadata(KEY_PARAM_STEPS, steps.toString());
        }
        if (configJson != null) {
            w.putMetadata(KEY_CONFIG, configJson);
        }
        if (extra != null) {
            w.putMetadata(extra);
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        w.write(file);
    }

    /**
     * Writes plain weights (state-dict names, no prefixes) for inference or PyTorch: e.g. the EMA
     * model's parameters. Atomic.
     */
    public static void saveWeights(Path file, Map<String, Parameter> weights, Map<String, String> metadata)
            throws IOException {
        SafeTensorsWriter w = new SafeTensorsWriter();
        weights.forEach((n, p) -> add(w, n, p.value()));
        if (metadata != null) {
            w.putMetadata(metadata);
        }
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        w.write(file);
    }

    private static void add(SafeTensorsWriter w, String name, Tensor t) {
        add(w, name, t.backend(), t.buffer(), t.shape().dims());
    }

    private static void add(SafeTensorsWriter w, String name, Backend be, DeviceBuffer buf, int[] dims) {
        float[] host = new float[Math.toIntExact(buf.size())];
        be.download(buf, 0, host, 0, host.length);
        w.add(name, toLong(dims), host);
    }

    private static long[] toLong(int[] dims) {
        long[] l = new long[dims.length];
        for (int i = 0; i < dims.length; i++) {
            l[i] = dims[i];
        }
        return l;
    }

    /** Reads only the header (format check, step, seed, config, metadata); loads no tensor. */
    public static Header readHeader(Path file) {
        try (SafeTensorsFile f = open(file)) {
            return header(f);
        }
    }

    /**
     * Loads a checkpoint into a model (and, when non-null, the EMA model and the optimizer),
     * after checking every tensor it will load. Returns the header.
     *
     * @throws InputException naming the file and the problem; nothing is changed then
     */
    public static Header load(Path file, Map<String, Parameter> model, Ema ema, AdamW optim) {
        try (SafeTensorsFile f = open(file)) {
            Header h = header(f);
            Map<String, Parameter> shadows = ema == null ? Map.of() : ema.shadows();
            // validate everything first, so a bad file leaves the training state untouched
            model.forEach((n, p) -> expect(f, n, p.value()));
            shadows.forEach((n, p) -> expect(f, EMA_PREFIX + n, p.value()));
            long[] steps = null;
            if (optim != null) {
                for (String n : optim.names()) {
                    expect(f, M_PREFIX + n, model.get(n).value());
                    expect(f, V_PREFIX + n, model.get(n).value());
                }
                steps = parseSteps(file, f.metadata().get(KEY_PARAM_STEPS), optim.names().size());
            }
            if (ema != null && !f.metadata().containsKey(KEY_EMA_UPDATES)) {
                throw new InputException(file + ": metadata " + KEY_EMA_UPDATES + " is missing");
            }
            model.forEach((n, p) -> p.set(read(f, n, p.value())));
            shadows.forEach((n, p) -> p.set(read(f, EMA_PREFIX + n, p.value())));
            if (optim != null) {
                List<String> names = optim.names();
                for (int i = 0; i < names.size(); i++) {
                    String n = names.get(i);
                    optim.restore(n, f.readFloats(M_PREFIX + n), f.readFloats(V_PREFIX + n), steps[i]);
                }
                optim.restoreStep(h.step());
            }
            if (ema != null) {
                ema.restoreUpdates(h.emaUpdates());
            }
            return h;
        } catch (SafeTensorsException e) {
            throw new InputException(e.getMessage(), e);
        }
    }

    /**
     * Loads plain weights (a checkpoint's model weights, or an exported weights file): names as the
     * model's, or, with {@code prefix} (e.g. {@value #EMA_PREFIX}), that prefix before each name.
     */
    public static void loadWeights(Path file, Map<String, Parameter> model, String prefix) {
        try (SafeTensorsFile f = open(file)) {
            String pre = prefix == null ? "" : prefix;
            model.forEach((n, p) -> expect(f, pre + n, p.value()));
            model.forEach((n, p) -> p.set(read(f, pre + n, p.value())));
        } catch (SafeTensorsException e) {
            throw new InputException(e.getMessage(), e);
        }
    }

    private static SafeTensorsFile open(Path file) {
        if (Files.isDirectory(file)) {
            throw new InputException(file + ": is a directory, not a checkpoint file");
        }
        try {
            return SafeTensorsFile.open(file);
        } catch (NoSuchFileException e) {
            throw new InputException(file + ": no such checkpoint file");
        } catch (SafeTensorsException e) {
            throw new InputException(e.getMessage(), e);
        } catch (IOException e) {
            throw new InputException(file + ": cannot read checkpoint: " + e.getMessage(), e);
        }
    }

    private static Header header(SafeTensorsFile f) {
        Map<String, String> md = f.metadata();
        Path file = f.path();
        String format = md.get(KEY_FORMAT);
        if (!FORMAT.equals(format)) {
            throw new InputException(file + ": not a sisma training checkpoint (metadata " + KEY_FORMAT + " is "
                    + (format == null ? "missing" : "'" + format + "'") + ", expected '" + FORMAT + "')");
        }
        String version = md.get(KEY_VERSION);
        if (!VERSION.equals(version)) {
            throw new InputException(file + ": checkpoint format version " + version + " is not supported (this build reads "
                    + VERSION + ")");
        }
        long step = longValue(file, md, KEY_STEP, true);
        long seed = longValue(file, md, KEY_SEED, true);
        long ema = longValue(file, md, KEY_EMA_UPDATES, false);
        return new Header(step, seed, ema, md.get(KEY_CONFIG), new LinkedHashMap<>(md));
    }

    private static long longValue(Path file, Map<String, String> md, String key, boolean required) {
        String v = md.get(key);
        if (v == null) {
            if (required) {
                throw new InputException(file + ": metadata " + key + " is missing");
            }
            return 0;
        }
        try {
            long l = Long.parseLong(v.trim());
            if (l < 0 && !key.equals(KEY_SEED)) {
                throw new NumberFormatException();
            }
            return l;
        } catch (NumberFormatException e) {
            throw new InputException(file + ": metadata " + key + " is not a valid integer: '" + v + "'");
        }
    }

    private static long[] parseSteps(Path file, String text, int count) {
        if (text == null) {
            throw new InputException(file + ": metadata " + KEY_PARAM_STEPS + " is missing");
        }
        String t = text.trim();
        if (!t.startsWith("[") || !t.endsWith("]")) {
            throw new InputException(file + ": metadata " + KEY_PARAM_STEPS + " is not a JSON array of integers");
        }
        String body = t.substring(1, t.length() - 1).trim();
        String[] parts = body.isEmpty() ? new String[0] : body.split(",");
        if (parts.length != count) {
            throw new InputException(file + ": metadata " + KEY_PARAM_STEPS + " has " + parts.length
                    + " entries, the model has " + count + " trainable parameters");
        }
        long[] out = new long[count];
        for (int i = 0; i < count; i++) {
            try {
                out[i] = Long.parseLong(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new InputException(file + ": metadata " + KEY_PARAM_STEPS + " entry " + i + " is not an integer");
            }
        }
        return out;
    }

    private static void expect(SafeTensorsFile f, String name, Tensor like) {
        TensorInfo info = f.find(name).orElseThrow(() -> new InputException(f.path() + ": tensor " + name
                + " is missing (is this a checkpoint of this model?)"));
        long[] want = toLong(like.shape().dims());
        if (!Arrays.equals(info.shape(), want)) {
            throw new InputException(f.path() + ": tensor " + name + " has shape " + Arrays.toString(info.shape())
                    + ", the model needs " + Arrays.toString(want) + " (a checkpoint of another model shape?)");
        }
        if (info.dtype() != DType.F32 && info.dtype() != DType.F16 && info.dtype() != DType.BF16) {
            throw new InputException(f.path() + ": tensor " + name + " is " + info.dtype() + ", expected float32");
        }
    }

    /** A new tensor on {@code like}'s backend with the file's values (converted to float32). */
    private static Tensor read(SafeTensorsFile f, String name, Tensor like) {
        Backend be = like.backend();
        DeviceBuffer buf;
        if (f.info(name).dtype() == DType.F32) {
            MemorySegment seg = f.segment(name);
            buf = be.upload(seg); // a copy: the file is closed after loading
        } else {
            buf = be.upload(f.readFloats(name));
        }
        return Tensor.wrap(be, buf, like.shape());
    }

    /** Names a checkpoint file for step {@code step}: {@code ckpt-000123.safetensors}. */
    public static String fileName(long step) {
        return String.format("ckpt-%07d.safetensors", step);
    }

}
