package dev.sisma.model.internal;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Set;

import org.osgi.service.component.annotations.Activate;
import org.osgi.service.component.annotations.Component;
import org.osgi.service.component.annotations.Reference;

import dev.sisma.api.cli.Args;
import dev.sisma.api.cli.Command;
import dev.sisma.api.cli.CommandContext;
import dev.sisma.api.cli.InputException;
import dev.sisma.engine.Backends;
import dev.sisma.engine.NoGrad;
import dev.sisma.engine.Scope;
import dev.sisma.engine.Tensor;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.io.SafeTensorsWriter;
import dev.sisma.engine.spi.Backend;
import dev.sisma.model.Checkpoints;
import dev.sisma.model.Sisma;
import dev.sisma.model.SismaConfig;

/** {@code sisma forward}: one pass of the velocity network on given tensors, to check a port or a checkpoint. */
@Component(service = Command.class)
public final class ForwardCommand implements Command {
    private final Backends backends;

    @Activate
    public ForwardCommand(@Reference Backends backends) {
        this.backends = backends;
    }

    @Override
    public String name() {
        return "forward";
    }

    @Override
    public String summary() {
        return "run the velocity network once on tensors from a safetensors file (parity checks)";
    }

    @Override
    public String usage() {
        return """
                usage: sisma forward --weights W.safetensors --inputs IN.safetensors --out OUT.safetensors [--config FILE|NAME] [--backend NAME]
                  Reads x [B,C,H,W], t [B] (0..1) and mask [B,19,S,S] (one-hot or class fractions, S the image
                  size or the model's input size) from IN, runs the model once and writes v [B,C,H,W] to OUT
                  (atomically). The config is FILE (JSON) or a named one (sisma-L/2, sisma-B/2, sisma-S/2, demo);
                  without --config, the one stored in W's metadata. Weight names are PyTorch state-dict names.""";
    }

    @Override
    public int run(List<String> args, CommandContext ctx) throws Exception {
        Args a = Args.parse(args, Set.of("--config", "--weights", "--inputs", "--out", "--backend"), Set.of());
        Path weights = ctx.resolve(a.required("--weights"));
        Path inputsFile = ctx.resolve(a.required("--inputs"));
        Path out = ctx.resolve(a.required("--out"));
        SismaConfig cfg = a.has("--config") ? SismaConfig.resolve(a.get("--config", null), ctx.workingDirectory()) : null;
        String bn = a.get("--backend", null);
        Optional<Backend> ob = bn == null ? backends.current() : backends.byName(bn);
        Backend be = ob.orElseThrow(() -> new InputException(bn == null ? "no compute backend is registered"
                : "compute backend '" + bn + "' is not registered"));
        try (Sisma model = Checkpoints.loadModel(weights, cfg, be)) {
            Result r = forward(model, inputsFile, out);
            ctx.out().printf("wrote v %s to %s%n", Arrays.toString(r.shape()), out);
            return 0;
        }
    }

    /** The velocity written. */
    record Result(int[] shape, float[] v) {
    }

    /** Validates the inputs, runs the model, writes v atomically. */
    static Result forward(Sisma model, Path inputsFile, Path out) throws java.io.IOException {
        SismaConfig cfg = model.config();
        try (SafeTensorsFile in = Checkpoints.open(inputsFile); Scope s = Scope.open(); NoGrad ng = NoGrad.enter()) {
            Tensor x = input(in, "x", model.backend(), -1, cfg.inChannels(), cfg.inputSize(), cfg.inputSize());
            int b = x.dim(0);
            Tensor t = input(in, "t", model.backend(), b);
            int ms = in.find("mask").map(i -> (int) (i.rank() == 4 ? i.dim(2) : -1)).orElse(cfg.imageSize());
            int side = ms == cfg.inputSize() ? cfg.inputSize() : cfg.imageSize();
            Tensor mask = input(in, "mask", model.backend(), b, cfg.maskClasses(), side, side);
            Tensor v = model.forward(x, t, mask);
            int[] vShape = v.shape().dims();
            float[] values = v.toArray();
            new SafeTensorsWriter().putMetadata(Checkpoints.CONFIG_KEY, cfg.toJson())
                    .add("v", Arrays.stream(vShape).asLongStream().toArray(), values).write(out);
            return new Result(vShape, values);
        }
    }

    /** Reads tensor {@code name} checking its shape ({@code -1}: any batch size), naming file, tensor and shapes. */
    private static Tensor input(SafeTensorsFile f, String name, Backend be, int... want) {
        var info = f.find(name).orElseThrow(() -> new InputException(f.path() + ": tensor " + name + ": missing (expected shape "
                + describe(want) + ")"));
        long[] found = info.shape();
        boolean ok = found.length == want.length;
        for (int i = 0; ok && i < want.length; i++) {
            ok = found[i] > 0 && (want[i] < 0 || found[i] == want[i]);
        }
        if (!ok) {
            throw new InputException(f.path() + ": tensor " + name + ": expected shape " + describe(want) + ", found "
                    + Arrays.toString(found));
        }
        int[] dims = Arrays.stream(found).mapToInt(Math::toIntExact).toArray();
        return Tensor.of(be, f.readFloats(name), dims);
    }

    private static String describe(int[] want) {
        StringBuilder b = new StringBuilder("[");
        for (int i = 0; i < want.length; i++) {
            b.append(i > 0 ? ", " : "").append(want[i] < 0 ? "B" : String.valueOf(want[i]));
        }
        return b.append(']').toString();
    }
}
