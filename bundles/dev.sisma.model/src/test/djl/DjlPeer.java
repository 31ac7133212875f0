import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;

import ai.djl.Device;
import ai.djl.Model;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Block;
import ai.djl.pytorch.jni.JniUtils;
import ai.djl.training.ParameterStore;

/**
 * The current-PyTorch peer of bench_model_peer.py: DJL's PyTorch (2.7.1, the native CPU build from
 * Maven Central) runs the TorchScript trace the torch 1.13 peer wrote into DIR (model.pt, with the
 * inputs x.f32, t.f32, mask.f32 and that peer's output v.f32, little-endian float32, shapes in
 * shapes.json), without gradients, WARMUP untimed and REPS timed forwards. Prints one line
 * {@code DJL_RESULT {json}}: the median seconds, the max |difference| from v, the engine's version.
 * Run by the peer script as a single-file program: {@code java -cp DJL-JARS DjlPeer.java DIR REPS WARMUP [WARMUP_SECONDS]}
 * (untimed forwards: at least WARMUP, at least 2, and at least WARMUP_SECONDS of them).
 */
public final class DjlPeer {
    public static void main(String[] args) throws Exception {
        Path dir = Path.of(args[0]);
        int reps = Integer.parseInt(args[1]), warmup = Math.max(2, Integer.parseInt(args[2])); // the profiling executor optimises on the first runs
        String shapes = Files.readString(dir.resolve("shapes.json"));
        Engine engine = Engine.getEngine("PyTorch");
        JniUtils.setGradMode(false);
        try (Model model = Model.newInstance("sisma", Device.cpu(), "PyTorch")) {
            model.load(dir, "model");
            NDManager m = model.getNDManager();
            NDList in = new NDList(array(m, dir, "x", shapes), array(m, dir, "t", shapes), array(m, dir, "mask", shapes));
            Block block = model.getBlock();
            ParameterStore ps = new ParameterStore(m, false);
            double[] times = new double[reps];
            float[] v = null;
            double warmupSeconds = args.length > 3 ? Double.parseDouble(args[3]) : 0;
            long warmStart = System.nanoTime();
            for (int i = 0; i < warmup || (System.nanoTime() - warmStart) / 1e9 < warmupSeconds; i++) {
                try (NDList out = block.forward(ps, in, false)) {
                    out.singletonOrThrow().toFloatArray();
                }
            }
            for (int i = 0; i < reps; i++) {
                long t0 = System.nanoTime();
                try (NDList out = block.forward(ps, in, false)) {
                    float[] o = out.singletonOrThrow().toFloatArray(); // the step is done when its output is on the host
                    times[i] = (System.nanoTime() - t0) / 1e9;
                    v = o;
                }
            }
            float[] ref = floats(dir.resolve("v.f32"));
            if (v.length != ref.length) throw new IllegalStateException("output of " + v.length + " values, expected " + ref.length);
            double diff = 0;
            for (int i = 0; i < v.length; i++) diff = Math.max(diff, Math.abs(v[i] - ref[i]));
            Arrays.sort(times);
            double median = reps % 2 == 1 ? times[reps / 2] : (times[reps / 2 - 1] + times[reps / 2]) / 2;
            System.out.println(String.format(Locale.ROOT, "DJL_RESULT {\"seconds\": %.6f, \"max_abs_diff\": %.3e, \"engine\": \"%s %s\", \"threads\": \"%s\"}",
                    median, diff, engine.getEngineName(), engine.getVersion(), System.getProperty("ai.djl.pytorch.num_threads", "default")));
        }
    }

    private static NDArray array(NDManager m, Path dir, String name, String shapesJson) throws IOException {
        // shapes.json: {"x": [1, 4, 32, 32], ...}; a tiny parse of the one list
        int at = shapesJson.indexOf('[', shapesJson.indexOf("\"" + name + "\""));
        long[] dims = Arrays.stream(shapesJson.substring(at + 1, shapesJson.indexOf(']', at)).split(","))
                .map(String::trim).mapToLong(Long::parseLong).toArray();
        return m.create(floats(dir.resolve(name + ".f32")), new Shape(dims));
    }

    private static float[] floats(Path p) throws IOException {
        ByteBuffer b = ByteBuffer.wrap(Files.readAllBytes(p)).order(ByteOrder.LITTLE_ENDIAN);
        float[] f = new float[b.remaining() / 4];
        b.asFloatBuffer().get(f);
        return f;
    }
}
