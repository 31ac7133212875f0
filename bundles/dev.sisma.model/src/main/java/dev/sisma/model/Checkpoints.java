package dev.sisma.model;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

import dev.sisma.api.cli.InputException;
import dev.sisma.api.generate.GenerationRequest;
import dev.sisma.api.generate.WeightFormat;
import dev.sisma.engine.Shape;
import dev.sisma.engine.TensorData;
import dev.sisma.engine.io.DType;
import dev.sisma.engine.io.SafeTensorsException;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.SafeTensorsWriter;
import dev.sisma.engine.io.TensorInfo;
import dev.sisma.engine.nn.Parameter;

/**
 * Model weights in safetensors under the PyTorch state-dict names of the spec's table, so one
 * file moves between sisma and PyTorch unchanged. A file may hold other sections under a prefix
 * (a trainer's {@code ema.*}, {@code optim.*}); {@link #load(Sisma, SafeTensorsFile, String)}
 * reads the section it is asked for and checks every name and shape against the model's config.
 * The config travels in the metadata entry {@value #CONFIG_KEY} (its JSON).
 */
public final class Checkpoints {
    /** safetensors {@code __metadata__} key holding the model config JSON. */
    public static final String CONFIG_KEY = "sisma.config";

    /** First name segments of sections other than the model's that a checkpoint may carry. */
    public static final Set<String> OTHER_SECTIONS = Set.of("ema", "optim", "optimizer", "trainer", "rng", "state");

    /**
     * The system property naming the format a loaded model keeps its Linear weights in when a run
     * asks for none: {@code f32} (the default), {@code bf16} or {@code f16}
     * ({@link dev.sisma.engine.nn.Module#halfLinearWeights}: half the weights' memory on the CPU
     * backend, which widens them as its GEMM packs them). A command's {@code --weights} (a
     * request's {@link GenerationRequest#weights()}) comes first; this property, then f32, when it is not given.
     */
    public static final String WEIGHTS_PROPERTY = "sisma.weights";

    /**
     * Keeps the model's Linear weights in the format {@link #WEIGHTS_PROPERTY} names (nothing for
     * f32); an unknown name is an {@link InputException}.
     */
    public static void applyWeightFormat(Sisma model) {
        applyWeightFormat(model, null);
    }

    /**
     * Keeps the model's Linear weights in {@code format} (nothing for f32), or in the format of
     * {@link #defaultWeightFormat()} when null; returns the format applied.
     */
    public static WeightFormat applyWeightFormat(Sisma model, WeightFormat format) {
        WeightFormat f = format != null ? format : defaultWeightFormat();
        switch (f) {
            case F32 -> { }
            case BF16 -> model.halfLinearWeights(DType.BF16);
            case F16 -> model.halfLinearWeights(DType.F16);
        }
        return f;
    }

    /**
     * The format {@link #WEIGHTS_PROPERTY} names, {@link WeightFormat#F32} when it is unset or
     * blank; an unknown name is an {@link InputException} naming the property, the value and the choices.
     */
    public static WeightFormat defaultWeightFormat() {
        String f = System.getProperty(WEIGHTS_PROPERTY, "");
        if (f.isBlank()) {
            return WeightFormat.F32;
        }
        try {
            return WeightFormat.parse(f);
        } catch (IllegalArgumentException e) {
            throw new InputException("-D" + WEIGHTS_PROPERTY + "=" + f + ": " + e.getMessage());
        }
    }

    private Checkpoints() {
    }

    /** Loads the model's weights (plain names) from {@code file}; see {@link #load(Sisma, SafeTensorsFile, String)}. */
    public static void load(Sisma model, Path file) {
        try (SafeTensorsFile f = open(file)) {
            load(model, f, "");
        }
    }

    /** Opens a safetensors file, turning every problem into an {@link InputException} naming it. */
    public static SafeTensorsFile open(Path file) {
        try {
            return SafeTensorsFile.open(file);
        } catch (SafeTensorsException e) {
            throw new InputException(e.getMessage(), e);
        } catch (java.nio.file.NoSuchFileException e) {
            throw new InputException(file + ": no such file");
        } catch (IOException e) {
            throw new InputException(file + ": cannot read: " + e.getMessage(), e);
        }
    }

    /**
     * Loads every parameter from the tensors named {@code prefix + name} (F32, F16 or BF16; values
     * are copied). Everything is checked before anything is loaded: a missing tensor, a shape that
     * differs ({@code "<file>: tensor <name>: expected shape [..], found [..]"}) or a tensor under
     * the section's names that the model does not have is an {@link InputException}.
     */
    public static void load(Sisma model, SafeTensorsFile file, String prefix) {
        Map<String, Parameter> params = model.namedParameters();
        for (Map.Entry<String, Parameter> e : params.entrySet()) {
            String name = prefix + e.getKey();
            Shape want = e.getValue().value().shape();
            TensorInfo info = file.find(name).orElseThrow(() -> new InputException(file.path() + ": tensor " + name
                    + ": missing (expected shape " + want + " for model config " + model.config().name() + ")"));
            Shape found = Shape.of(Arrays.stream(info.shape()).mapToInt(Math::toIntExact).toArray());
            if (!found.equals(want)) {
                throw new InputException(file.path() + ": tensor " + name + ": expected shape " + want + ", found " + found);
            }
        }
        Set<String> extra = new TreeSet<>();
        for (String n : file.names()) {
            if (!n.startsWith(prefix)) {
                continue;
            }
            String local = n.substring(prefix.length());
            int dot = local.indexOf('.');
            boolean otherSection = prefix.isEmpty() && dot > 0 && OTHER_SECTIONS.contains(local.substring(0, dot));
            if (!params.containsKey(local) && !otherSection) {
                extra.add(n);
            }
        }
        if (!extra.isEmpty()) {
            throw new InputException(file.path() + ": tensor " + extra.iterator().next() + ": not a parameter of model config "
                    + model.config().name() + (extra.size() > 1 ? " (and " + (extra.size() - 1) + " more)" : ""));
        }
        Map<String, TensorData> state = new LinkedHashMap<>();
        params.forEach((n, p) -> state.put(n, TensorData.of(file.readFloats(prefix + n), p.value().shape().dims())));
        model.loadStateDict(state, true, false);
    }

    /**
     * Builds a model from a checkpoint: the config is {@code config} when given, else the one in the
     * file's metadata; the weights are the EMA section ({@code ema.*}) when the file has one, else
     * the plain names. Every problem is an {@link InputException} naming the file.
     */
    public static Sisma loadModel(Path file, SismaConfig config, dev.sisma.engine.spi.Backend backend) {
        return loadModel(file, config, backend, null);
    }

    /**
     * As {@link #loadModel(Path, SismaConfig, dev.sisma.engine.spi.Backend)}, the Linear weights
     * kept in {@code weights} ({@link #applyWeightFormat(Sisma, WeightFormat)}: null for the default).
     */
    public static Sisma loadModel(Path file, SismaConfig config, dev.sisma.engine.spi.Backend backend, WeightFormat weights) {
        try (SafeTensorsFile f = open(file)) {
            SismaConfig cfg = config != null ? config : configOf(f);
            if (cfg == null) {
                throw new InputException(file + ": no model config in the metadata (key " + CONFIG_KEY + "); pass --config");
            }
            String prefix = f.names().stream().anyMatch(n -> n.startsWith("ema.")) ? "ema." : "";
            Sisma model = new Sisma(cfg, backend);
            try {
                load(model, f, prefix);
                applyWeightFormat(model, weights);
            } catch (RuntimeException e) {
                model.close();
                throw e;
            }
            return model;
        }
    }

    /** The config stored in a checkpoint's metadata, or null when it has none. */
    public static SismaConfig configOf(SafeTensorsFile file) {
        String json = file.metadata().get(CONFIG_KEY);
        return json == null ? null : SismaConfig.parse(json, file.path() + " (metadata " + CONFIG_KEY + ")");
    }

    /** Writes the model's weights (F32, plain names) and its config, atomically. */
    public static void save(Sisma model, Path file, Map<String, String> metadata) throws IOException {
        writer(model, "", metadata).write(file);
    }

    /**
     * A writer holding the model's weights under {@code prefix} and its config in the metadata;
     * a trainer adds its own sections (EMA, optimizer state) before {@link SafeTensorsWriter#write}.
     */
    public static SafeTensorsWriter writer(Sisma model, String prefix, Map<String, String> metadata) {
        SafeTensorsWriter w = new SafeTensorsWriter();
        w.putMetadata(CONFIG_KEY, model.config().toJson());
        if (metadata != null) {
            w.putMetadata(metadata);
        }
        addTo(w, model, prefix);
        return w;
    }

    /** Adds the model's weights to {@code w} under {@code prefix}. */
    public static void addTo(SafeTensorsWriter w, Sisma model, String prefix) {
        model.namedParameters().forEach((n, p) -> {
            int[] d = p.value().shape().dims();
            long[] shape = Arrays.stream(d).asLongStream().toArray();
            w.add(prefix + n, shape, p.value().toArray());
        });
    }
}
