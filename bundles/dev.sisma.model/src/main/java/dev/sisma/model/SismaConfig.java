package dev.sisma.model;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

import dev.sisma.api.cli.InputException;
import dev.sisma.model.internal.MiniJson;

/**
 * Everything that fixes a SISMA model, as in {@code docs/sisma-model.md}: every point
 * the paper leaves open is a field here, with the spec's choice as default. Configs are JSON files
 * with the snake_case keys of {@link #toMap()} (copy a named one with {@link #write} and edit it);
 * keys left out take the defaults of {@link #DEFAULTS}.
 *
 * <p>Named configs: {@code sisma-L/2} (the paper's), {@code sisma-B/2}, {@code sisma-S/2},
 * {@code demo} (pixel space, 3x32x32 images, patch 4 so 64 tokens, 4 blocks of width 128, 2.3M
 * parameters, learned null mask: a training step of batch 16 takes about 1.4 s on 2 CPU cores, so
 * it trains in well under an hour), {@code demo-256} (TAEF2 latents of 256x256 faces, 32x32x32,
 * patch 2 so 256 tokens, 4 blocks of width 128). See {@link #named}.
 *
 * @param name            display name
 * @param depth           number of blocks
 * @param hidden          D, the token width
 * @param patch           p, patch side (patch embed and mask embed stride)
 * @param inputSize       side of the model's input grid (latent side for latent models, pixels for pixel models)
 * @param imageSize       side of the image in pixels (the mask's size before it is area-averaged to {@code inputSize})
 * @param inChannels      C, channels of the model input (4 for the SD latent, 3 for RGB)
 * @param outChannels     channels of the predicted velocity (= inChannels: no learned sigma in flow matching)
 * @param maskClasses     number of mask classes (19 for CelebAMask-HQ)
 * @param dState          N, Mamba state size
 * @param expand          E = expand * D
 * @param dtRank          R; 0 in a file or "auto" means ceil(D / 16)
 * @param convKernel      K, taps of Mamba's causal depthwise conv
 * @param scanSchedule    which token order each block scans in
 * @param blockType       SISMA blocks, or the DiT attention baseline
 * @param attentionHeads  heads of the attention baseline (D must divide by it)
 * @param mlpRatio        MLP hidden width / D
 * @param maskDownsample  how the one-hot mask is brought to {@code inputSize}
 * @param crossScanInput  what Cross-Mamba scans: the content (spec) or the mask branch
 * @param nullMask        a learned null mask exists (classifier-free guidance)
 * @param maskDropout     probability that training replaces a sample's mask by the null mask
 * @param lnEps           LayerNorm epsilon
 * @param timestepScale   t is multiplied by this before the sinusoidal features (1000)
 * @param frequencyDim    size of the sinusoidal timestep features (256)
 * @param space           "latent" (the latents of a frozen image autoencoder) or "pixel"
 * @param latentScale     the model's latent = (autoencoder latent - latentShift) * latentScale; the autoencoder's
 *                        own scaling (the SD-VAE's 0.18215) is applied before, so 1 unless its latents need more
 * @param autoencoder     the autoencoder of a latent model: {@code "taef2"} (built in, 32 channels) or
 *                        {@code "sd-vae"} (a user's weights file, 4 channels); ignored in pixel space
 * @param latentShift     see latentScale
 * @param tLogitMean      training t = sigmoid(n), n ~ N(tLogitMean, tLogitStd^2)
 * @param tLogitStd       see tLogitMean
 * @param dtMin           Mamba dt init: log-uniform in [dtMin, dtMax], floored at dtFloor
 * @param dtMax           see dtMin
 * @param dtFloor         see dtMin
 * @param sampler         default sampler name
 * @param sampleSteps     default number of sampler steps (the paper: 200 Euler steps)
 * @param cfgScale        default classifier-free guidance scale (1 = off)
 * @param initSeed        seed of the initial weights
 */
public record SismaConfig(String name, int depth, int hidden, int patch, int inputSize, int imageSize,
        int inChannels, int outChannels, int maskClasses, int dState, int expand, int dtRank, int convKernel,
        ScanSchedule scanSchedule, BlockType blockType, int attentionHeads, double mlpRatio,
        MaskDownsample maskDownsample, CrossScanInput crossScanInput, boolean nullMask, double maskDropout,
        double lnEps, double timestepScale, int frequencyDim, Space space, double latentScale, String autoencoder,
        double latentShift, double tLogitMean, double tLogitStd, double dtMin, double dtMax, double dtFloor,
        String sampler, int sampleSteps, double cfgScale, long initSeed) {

    /** Token orders per block (see {@link ScanOrders}). */
    public enum ScanSchedule {
        /** Block i scans in order i mod 4 of: row-major, reversed row-major, column-major, reversed column-major (spec). */
        ROWCOL4,
        /** Row-major raster order in every block. */
        RASTER,
        /** Block i scans in order i mod 8 of the 8 snake (boustrophedon) orders of U-Shape Mamba. */
        SNAKE8
    }

    /** What a block is made of. */
    public enum BlockType {
        /** Self-Mamba, Cross-Mamba, MLP (the paper). */
        SISMA,
        /** DiT baseline: self-attention, cross-attention to the mask tokens, MLP (same AdaLN). */
        ATTENTION
    }

    /** How the one-hot mask reaches the model's grid. */
    public enum MaskDownsample {
        /** Class fractions per cell (spec). */
        AREA,
        /** The class at each cell's top-left pixel, one-hot. */
        NEAREST
    }

    /** The sequence Cross-Mamba's scan runs over. */
    public enum CrossScanInput {
        /** u = the content branch (spec). */
        CONTENT,
        /** u = the mask branch. */
        MASK
    }

    /** Where the model works. */
    public enum Space {
        LATENT, PIXEL
    }

    /** The spec's defaults (= {@code sisma-L/2}). */
    public static final SismaConfig DEFAULTS = new SismaConfig("sisma-L/2", 24, 1024, 2, 32, 256, 4, 4, 19, 16, 2, 0, 4,
            ScanSchedule.ROWCOL4, BlockType.SISMA, 16, 4.0, MaskDownsample.AREA, CrossScanInput.CONTENT, false, 0.0,
            1e-6, 1000.0, 256, Space.LATENT, 1.0, "sd-vae", 0.0, 0.0, 1.0, 1e-3, 1e-1, 1e-4, "euler", 200, 1.0, 0L);

    /** The names {@link #named} knows. */
    public static final List<String> NAMES = List.of("sisma-L/2", "sisma-B/2", "sisma-S/2", "demo", "demo-256");

    /** The autoencoder of a config that names none (the paper's: Stable Diffusion's VAE). */
    public static final String DEFAULT_AUTOENCODER = "sd-vae";

    /** A config without the autoencoder fields: {@value #DEFAULT_AUTOENCODER}, shift 0. */
    public SismaConfig(String name, int depth, int hidden, int patch, int inputSize, int imageSize,
            int inChannels, int outChannels, int maskClasses, int dState, int expand, int dtRank, int convKernel,
            ScanSchedule scanSchedule, BlockType blockType, int attentionHeads, double mlpRatio,
            MaskDownsample maskDownsample, CrossScanInput crossScanInput, boolean nullMask, double maskDropout,
            double lnEps, double timestepScale, int frequencyDim, Space space, double latentScale,
            double tLogitMean, double tLogitStd, double dtMin, double dtMax, double dtFloor,
            String sampler, int sampleSteps, double cfgScale, long initSeed) {
        this(name, depth, hidden, patch, inputSize, imageSize, inChannels, outChannels, maskClasses, dState, expand, dtRank,
                convKernel, scanSchedule, blockType, attentionHeads, mlpRatio, maskDownsample, crossScanInput, nullMask,
                maskDropout, lnEps, timestepScale, frequencyDim, space, latentScale, DEFAULT_AUTOENCODER, 0.0, tLogitMean,
                tLogitStd, dtMin, dtMax, dtFloor, sampler, sampleSteps, cfgScale, initSeed);
    }

    public SismaConfig {
        List<String> bad = problems(depth, hidden, patch, inputSize, imageSize, inChannels, outChannels, maskClasses,
                dState, expand, dtRank == 0 ? 1 : dtRank, convKernel, blockType, attentionHeads, mlpRatio, nullMask, maskDropout, lnEps,
                frequencyDim, space, tLogitStd, dtMin, dtMax, dtFloor, sampleSteps, scanSchedule, maskDownsample,
                crossScanInput, sampler);
        if (autoencoder == null || autoencoder.isBlank()) {
            bad.add("field autoencoder: must name an autoencoder (taef2, sd-vae)");
        }
        if (!(latentScale > 0) || Double.isInfinite(latentScale) || !Double.isFinite(latentShift)) {
            bad.add("fields latent_scale/latent_shift: need a finite latent_scale > 0 and a finite latent_shift, got "
                    + latentScale + ", " + latentShift);
        }
        if (!bad.isEmpty()) {
            throw new IllegalArgumentException(bad.get(0));
        }
    }

    private static List<String> problems(int depth, int hidden, int patch, int inputSize, int imageSize,
            int inChannels, int outChannels, int maskClasses, int dState, int expand, int dtRank, int convKernel,
            BlockType blockType, int heads, double mlpRatio, boolean nullMask, double maskDropout, double lnEps,
            int frequencyDim, Space space, double tLogitStd, double dtMin, double dtMax, double dtFloor,
            int sampleSteps, Object scan, Object down, Object cross, String sampler) {
        List<String> p = new ArrayList<>();
        positive(p, "depth", depth);
        positive(p, "hidden", hidden);
        positive(p, "patch", patch);
        positive(p, "input_size", inputSize);
        positive(p, "image_size", imageSize);
        positive(p, "in_channels", inChannels);
        positive(p, "out_channels", outChannels);
        positive(p, "mask_classes", maskClasses);
        positive(p, "d_state", dState);
        positive(p, "expand", expand);
        positive(p, "dt_rank", dtRank);
        positive(p, "conv_kernel", convKernel);
        positive(p, "attention_heads", heads);
        positive(p, "frequency_dim", frequencyDim);
        positive(p, "sample_steps", sampleSteps);
        if (!p.isEmpty()) {
            return p;
        }
        if (hidden % 4 != 0) {
            p.add("field hidden: must be a multiple of 4 (the 2D sin-cos position embedding), got " + hidden);
        }
        if (frequencyDim % 2 != 0) {
            p.add("field frequency_dim: must be even, got " + frequencyDim);
        }
        if (inputSize % patch != 0) {
            p.add("field input_size: " + inputSize + " is not a multiple of patch " + patch);
        }
        if (imageSize % inputSize != 0) {
            p.add("field image_size: " + imageSize + " is not a multiple of input_size " + inputSize
                    + " (the mask is area-averaged by a whole factor)");
        }
        if (space == Space.PIXEL && imageSize != inputSize) {
            p.add("field image_size: a pixel-space model needs image_size = input_size, got " + imageSize + " and " + inputSize);
        }
        if (blockType == BlockType.ATTENTION && hidden % heads != 0) {
            p.add("field attention_heads: hidden " + hidden + " is not a multiple of " + heads);
        }
        if (!(mlpRatio > 0) || hidden * mlpRatio != Math.rint(hidden * mlpRatio)) {
            p.add("field mlp_ratio: must be positive and make hidden * mlp_ratio whole, got " + mlpRatio);
        }
        if (!(maskDropout >= 0 && maskDropout < 1)) {
            p.add("field mask_dropout: must be in [0, 1), got " + maskDropout);
        } else if (maskDropout > 0 && !nullMask) {
            p.add("field mask_dropout: " + maskDropout + " needs null_mask: true (the learned null mask)");
        }
        if (!(lnEps > 0)) {
            p.add("field ln_eps: must be positive, got " + lnEps);
        }
        if (!(tLogitStd > 0)) {
            p.add("field t_logit_std: must be positive, got " + tLogitStd);
        }
        if (!(dtMin > 0 && dtMax >= dtMin && dtFloor >= 0)) {
            p.add("fields dt_min/dt_max/dt_floor: need 0 < dt_min <= dt_max and dt_floor >= 0, got " + dtMin + ", "
                    + dtMax + ", " + dtFloor);
        }
        if (scan == null || down == null || cross == null || space == null || blockType == null || sampler == null) {
            p.add("an enum or string field is missing");
        }
        return p;
    }

    private static void positive(List<String> p, String field, int v) {
        if (v <= 0) {
            p.add("field " + field + ": must be a positive integer, got " + v);
        }
    }

    // ------------------------------------------------------------------ derived sizes

    /** R: the configured dt rank, or ceil(D / 16) when it is 0 ("auto"). */
    @Override
    public int dtRank() {
        return dtRank == 0 ? (hidden + 15) / 16 : dtRank;
    }

    /** E = expand * D. */
    public int inner() {
        return expand * hidden;
    }

    /** Tokens per side, inputSize / patch. */
    public int grid() {
        return inputSize / patch;
    }

    /** T, the number of tokens. */
    public int tokens() {
        return grid() * grid();
    }

    /** MLP hidden width. */
    public int mlpHidden() {
        return (int) Math.rint(hidden * mlpRatio);
    }

    // ------------------------------------------------------------------ named configs

    /**
     * A named config: {@code sisma-L/2}, {@code sisma-B/2}, {@code sisma-S/2} or {@code demo}
     * (bundled resources {@code /dev/sisma/model/configs/<name with '/' as '-'>.json}).
     *
     * @throws InputException for an unknown name, naming the nearest known one
     */
    public static SismaConfig named(String name) {
        if (!NAMES.contains(name)) {
            String near = dev.sisma.api.cli.Args.nearest(name, NAMES);
            throw new InputException("unknown model config '" + name + "'" + (near == null ? "" : " (did you mean " + near + "?)")
                    + "; known: " + String.join(", ", NAMES));
        }
        String res = "configs/" + name.replace('/', '-') + ".json";
        try (InputStream in = SismaConfig.class.getResourceAsStream(res)) {
            if (in == null) {
                throw new IllegalStateException("bundled config " + res + " is missing");
            }
            return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), "<bundled " + name + ">");
        } catch (IOException e) {
            throw new IllegalStateException("cannot read bundled config " + res, e);
        }
    }

    /** A named config when {@code nameOrFile} is one of {@link #NAMES}, else the JSON file it names. */
    public static SismaConfig resolve(String nameOrFile, Path workingDirectory) {
        if (NAMES.contains(nameOrFile)) {
            return named(nameOrFile);
        }
        return read(workingDirectory.resolve(nameOrFile));
    }

    // ------------------------------------------------------------------ JSON

    /** Reads a config file; every problem is an {@link InputException} naming the file and the field. */
    public static SismaConfig read(Path file) {
        String text;
        try {
            text = Files.readString(file, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new InputException(file + ": cannot read model config: " + e.getMessage(), e);
        }
        return parse(text, file.toString());
    }

    /** Parses config JSON; {@code source} names it in errors. */
    public static SismaConfig parse(String json, String source) {
        Map<String, Object> map;
        try {
            map = MiniJson.parseObject(json);
        } catch (MiniJson.SyntaxException e) {
            throw new InputException(source + ": not a JSON config object: " + e.getMessage());
        }
        return fromMap(map, source);
    }

    /** Writes this config as JSON, atomically (temp file in the same folder, then rename). */
    public void write(Path file) throws IOException {
        Path dir = file.toAbsolutePath().getParent();
        Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, file.getFileName().toString(), ".tmp");
        try {
            Files.writeString(tmp, toJson(), StandardCharsets.UTF_8);
            Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    public String toJson() {
        return MiniJson.write(toMap());
    }

    /** The config as the key/value map of its JSON form (snake_case keys, enum values lower case). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("depth", depth);
        m.put("hidden", hidden);
        m.put("patch", patch);
        m.put("input_size", inputSize);
        m.put("image_size", imageSize);
        m.put("in_channels", inChannels);
        m.put("out_channels", outChannels);
        m.put("mask_classes", maskClasses);
        m.put("d_state", dState);
        m.put("expand", expand);
        m.put("dt_rank", dtRank == 0 ? "auto" : (Object) dtRank);
        m.put("conv_kernel", convKernel);
        m.put("scan_schedule", lower(scanSchedule));
        m.put("block_type", lower(blockType));
        m.put("attention_heads", attentionHeads);
        m.put("mlp_ratio", mlpRatio);
        m.put("mask_downsample", lower(maskDownsample));
        m.put("cross_scan_input", lower(crossScanInput));
        m.put("null_mask", nullMask);
        m.put("mask_dropout", maskDropout);
        m.put("ln_eps", lnEps);
        m.put("timestep_scale", timestepScale);
        m.put("frequency_dim", frequencyDim);
        m.put("space", lower(space));
        m.put("latent_scale", latentScale);
        m.put("autoencoder", autoencoder);
        m.put("latent_shift", latentShift);
        m.put("t_logit_mean", tLogitMean);
        m.put("t_logit_std", tLogitStd);
        m.put("dt_min", dtMin);
        m.put("dt_max", dtMax);
        m.put("dt_floor", dtFloor);
        m.put("sampler", sampler);
        m.put("sample_steps", sampleSteps);
        m.put("cfg_scale", cfgScale);
        m.put("init_seed", initSeed);
        return m;
    }

    /** This config with some fields changed, e.g. {@code cfg.with("depth", 2, "hidden", 32)}; validated like a file. */
    public SismaConfig with(Object... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("with() needs key/value pairs");
        }
        Map<String, Object> m = toMap();
        for (int i = 0; i < keyValues.length; i += 2) {
            String k = (String) keyValues[i];
            if (!m.containsKey(k)) {
                throw new IllegalArgumentException("unknown config field " + k);
            }
            Object v = keyValues[i + 1];
            m.put(k, v instanceof Enum<?> e ? lower(e) : v instanceof Integer n ? Long.valueOf(n) : v);
        }
        return fromMap(m, "<" + name + " with changes>");
    }

    /** Builds a config from its JSON map; unknown keys and bad values are errors naming {@code source} and the field. */
    public static SismaConfig fromMap(Map<String, Object> map, String source) {
        Map<String, Object> d = DEFAULTS.toMap();
        for (String k : map.keySet()) {
            if (!d.containsKey(k)) {
                String near = dev.sisma.api.cli.Args.nearest(k, d.keySet());
                throw new InputException(source + ": unknown field \"" + k + "\"" + (near == null ? "" : " (did you mean \"" + near + "\"?)"));
            }
        }
        Fields f = new Fields(map, d, source);
        int hidden = f.integer("hidden");
        int dtRank = "auto".equals(f.raw("dt_rank")) ? 0 : f.integer("dt_rank");
        try {
            return new SismaConfig(f.string("name"), f.integer("depth"), hidden, f.integer("patch"),
                    f.integer("input_size"), f.integer("image_size"), f.integer("in_channels"), f.integer("out_channels"),
                    f.integer("mask_classes"), f.integer("d_state"), f.integer("expand"), dtRank, f.integer("conv_kernel"),
                    f.enumValue("scan_schedule", ScanSchedule.class), f.enumValue("block_type", BlockType.class),
                    f.integer("attention_heads"), f.number("mlp_ratio"), f.enumValue("mask_downsample", MaskDownsample.class),
                    f.enumValue("cross_scan_input", CrossScanInput.class), f.bool("null_mask"), f.number("mask_dropout"),
                    f.number("ln_eps"), f.number("timestep_scale"), f.integer("frequency_dim"),
                    f.enumValue("space", Space.class), f.number("latent_scale"), f.string("autoencoder"),
                    f.number("latent_shift"), f.number("t_logit_mean"),
                    f.number("t_logit_std"), f.number("dt_min"), f.number("dt_max"), f.number("dt_floor"),
                    f.string("sampler"), f.integer("sample_steps"), f.number("cfg_scale"), f.longValue("init_seed"));
        } catch (IllegalArgumentException e) {
            throw new InputException(source + ": " + e.getMessage());
        }
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT);
    }

    /** Typed field access with errors naming the file and the field. */
    private record Fields(Map<String, Object> map, Map<String, Object> defaults, String source) {
        Object raw(String k) {
            return map.containsKey(k) ? map.get(k) : defaults.get(k);
        }

        InputException bad(String k, String want) {
            Object v = raw(k);
            return new InputException(source + ": field " + k + ": expected " + want + ", got "
                    + (v instanceof String s ? "\"" + s + "\"" : String.valueOf(v)));
        }

        long longValue(String k) {
            Object v = raw(k);
            if (v instanceof Long || v instanceof Integer) {
                return ((Number) v).longValue();
            }
            if (v instanceof Double x && x == Math.rint(x) && Math.abs(x) < 9e15) {
                return (long) (double) x;
            }
            throw bad(k, "an integer");
        }

        int integer(String k) {
            long v = longValue(k);
            if (v < Integer.MIN_VALUE || v > Integer.MAX_VALUE) {
                throw bad(k, "an integer in int range");
            }
            return (int) v;
        }

        double number(String k) {
            Object v = raw(k);
            if (v instanceof Number n) {
                return n.doubleValue();
            }
            throw bad(k, "a number");
        }

        boolean bool(String k) {
            Object v = raw(k);
            if (v instanceof Boolean b) {
                return b;
            }
            throw bad(k, "true or false");
        }

        String string(String k) {
            Object v = raw(k);
            if (v instanceof String s && !s.isBlank()) {
                return s;
            }
            throw bad(k, "a non-empty string");
        }

        <E extends Enum<E>> E enumValue(String k, Class<E> type) {
            Object v = raw(k);
            if (v instanceof String s) {
                for (E e : type.getEnumConstants()) {
                    if (e.name().equalsIgnoreCase(s)) {
                        return e;
                    }
                }
            }
            List<String> names = new ArrayList<>();
            for (E e : type.getEnumConstants()) {
                names.add("\"" + lower(e) + "\"");
            }
            throw bad(k, "one of " + String.join(", ", names));
        }
    }
}
