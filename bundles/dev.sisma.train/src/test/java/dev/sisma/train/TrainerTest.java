package dev.sisma.train;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.sisma.api.cli.InputException;
import dev.sisma.engine.io.SafeTensorsFile;
import dev.sisma.engine.nn.Parameter;
import dev.sisma.train.checkpoint.Checkpoint;
import dev.sisma.train.internal.TrainSettings;
import dev.sisma.train.internal.Trainer;
import dev.sisma.train.internal.TrainingTask;
import dev.sisma.train.optim.AdamWSettings;

class TrainerTest {
    @TempDir
    Path tmp;

    static TrainSettings settings(long steps, long every) {
        return TrainSettings.defaults().withSteps(steps).withBatch(4).withSeed(11)
                .withOptim(AdamWSettings.defaults().withLr(1e-2).withWarmupSteps(3).withWeightDecay(0.01).withMaxGradNorm(0.5))
                .withCheckpointEvery(every).withSampleEvery(0).withLogEvery(2).withEma(0.99, true);
    }

    private Trainer.Result train(TinyTask task, TrainSettings s, Path dir, boolean resume, ByteArrayOutputStream log) throws Exception {
        return new Trainer(task, s, dir, new PrintStream(log, true, StandardCharsets.UTF_8), false).run(resume);
    }

    private static void assertBitIdentical(Map<String, Parameter> a, Map<String, Parameter> b, String what) {
        assertEquals(a.keySet(), b.keySet());
        for (String n : a.keySet()) {
            float[] x = a.get(n).value().toArray(), y = b.get(n).value().toArray();
            for (int i = 0; i < x.length; i++) {
                assertEquals(Float.floatToRawIntBits(x[i]), Float.floatToRawIntBits(y[i]), what + " " + n + "[" + i + "]");
            }
        }
    }

    @Test
    void resumeContinuesExactly() throws Exception {
        int n = 6;
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TinyTask straight = new TinyTask(new RefBackend());
        Trainer.Result r = train(straight, settings(2 * n, n), tmp.resolve("straight"), false, log);
        assertEquals(2 * n, r.endStep());

        TinyTask first = new TinyTask(new RefBackend());
        train(first, settings(n, n), tmp.resolve("split"), false, log);
        TinyTask second = new TinyTask(new RefBackend()); // fresh weights: everything must come from the checkpoint
        Trainer.Result r2 = train(second, settings(2 * n, n), tmp.resolve("split"), true, log);
        assertEquals(n, r2.startStep());

        assertBitIdentical(straight.parameters(), second.parameters(), "weights");
        assertBitIdentical(straight.emaParameters(), second.emaParameters(), "ema");
        // optimizer state too: compare the two final checkpoints tensor by tensor
        try (SafeTensorsFile a = SafeTensorsFile.open(tmp.resolve("straight").resolve(Trainer.CHECKPOINT));
             SafeTensorsFile b = SafeTensorsFile.open(tmp.resolve("split").resolve(Trainer.CHECKPOINT))) {
            assertEquals(a.names(), b.names());
            for (String name : a.names()) {
                assertArrayEquals(a.readFloats(name), b.readFloats(name), name);
            }
            assertEquals(Long.toString(2 * n), b.metadata().get("step"));
            assertTrue(a.names().contains("optim.m.in_proj.weight"));
            assertTrue(a.names().contains("ema.A_log"));
            assertTrue(a.names().contains("out_proj.bias"));
        }
        // the metrics log of the resumed run has each step once
        List<String> lines = Files.readAllLines(tmp.resolve("split").resolve(Trainer.METRICS));
        assertEquals(2 * n, lines.size());
        assertTrue(lines.get(0).startsWith("{\"step\":1,\"loss\":"), lines.get(0));
        assertTrue(lines.get(0).contains("\"lr\":") && lines.get(0).contains("\"grad_norm\":") && lines.get(0).contains("\"it_per_s\":"));
        assertTrue(Files.size(tmp.resolve("split").resolve(Trainer.LOSS_PNG)) > 1000);
        assertTrue(Files.exists(tmp.resolve("split").resolve(Trainer.EMA_WEIGHTS)));
        String out = log.toString(StandardCharsets.UTF_8);
        assertTrue(out.contains("step 2/12"), out);
        assertTrue(out.contains("it/s") && out.contains("ETA"), out);
        assertFalse(out.contains("\r"), "plain lines when not a terminal");
    }

    /** A task whose every step takes {@code minutes} on the given clock. */
    private static TrainingTask timed(TinyTask t, long[] clock, double minutes) {
        return new TrainingTask() {
            @Override public Map<String, Parameter> parameters() { return t.parameters(); }
            @Override public Map<String, Parameter> emaParameters() { return t.emaParameters(); }
            @Override public String configJson() { return t.configJson(); }
            @Override public dev.sisma.engine.Tensor loss(long step, long seed, int batch) {
                clock[0] += Math.round(minutes * 60e9);
                return t.loss(step, seed, batch);
            }
        };
    }

    /** With 4 minutes a step and a checkpoint at least every 10 minutes, the steps-based ones (every 1000) never come. */
    @Test
    void checkpointsAtLeastEveryNMinutes() throws Exception {
        long[] clock = {0};
        Path dir = tmp.resolve("timed");
        Path ckpt = dir.resolve(Trainer.CHECKPOINT);
        java.util.TreeSet<Long> seen = new java.util.TreeSet<>();
        Trainer.Result r = new Trainer(timed(new TinyTask(new RefBackend()), clock, 4), settings(8, 1000).withCheckpointMinutes(10),
                dir, new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false)
                .clock(() -> clock[0])
                .stopWhen(() -> {
                    // polled after each step, before that step's checkpoint: what is on disk so far
                    if (Files.exists(ckpt)) {
                        seen.add(Checkpoint.readHeader(ckpt).step());
                    }
                    return false;
                })
                .run(false);
        assertFalse(r.stopped());
        assertEquals(List.of(3L, 6L), List.copyOf(seen), "12 and 24 minutes in");
        assertEquals(8, Checkpoint.readHeader(ckpt).step(), "and at the end");
        assertEquals(10.0, TrainSettings.fromMetadata(Checkpoint.readHeader(ckpt).metadata(), "x").checkpointMinutes());

        // 0 turns them off
        seen.clear();
        clock[0] = 0;
        new Trainer(timed(new TinyTask(new RefBackend()), clock, 4), settings(8, 1000).withCheckpointMinutes(0),
                tmp.resolve("untimed"), new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8), false)
                .clock(() -> clock[0])
                .stopWhen(() -> {
                    seen.add(Files.exists(tmp.resolve("untimed").resolve(Trainer.CHECKPOINT)) ? 1L : 0L);
                    return false;
                })
                .run(false);
        assertEquals(java.util.Set.of(0L), seen);
    }

    /** A stop request (SIGTERM, Ctrl-C) ends the run at a step boundary with a checkpoint that resumes exactly. */
    @Test
    void aStoppedRunLeavesACheckpointThatResumesExactly() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TinyTask straight = new TinyTask(new RefBackend());
        train(straight, settings(12, 1000), tmp.resolve("straight"), false, log);

        TinyTask first = new TinyTask(new RefBackend());
        int[] polls = {0};
        Trainer.Result stopped = new Trainer(first, settings(12, 1000), tmp.resolve("stopped"),
                new PrintStream(log, true, StandardCharsets.UTF_8), false)
                .stopWhen(() -> ++polls[0] >= 5)
                .run(false);
        assertTrue(stopped.stopped());
        assertEquals(5, stopped.endStep());
        assertEquals(5, Checkpoint.readHeader(tmp.resolve("stopped").resolve(Trainer.CHECKPOINT)).step());
        assertFalse(Files.exists(tmp.resolve("stopped").resolve(Trainer.EMA_WEIGHTS)), "the run did not end");
        try (var files = Files.list(tmp.resolve("stopped"))) {
            assertTrue(files.noneMatch(f -> f.getFileName().toString().contains(".tmp")), "no temp files left");
        }

        TinyTask second = new TinyTask(new RefBackend());
        Trainer.Result r = train(second, settings(12, 1000), tmp.resolve("stopped"), true, log);
        assertEquals(5, r.startStep());
        assertFalse(r.stopped());
        assertBitIdentical(straight.parameters(), second.parameters(), "weights");
        assertBitIdentical(straight.emaParameters(), second.emaParameters(), "ema");
        assertEquals(12, Files.readAllLines(tmp.resolve("stopped").resolve(Trainer.METRICS)).size());
    }

    /** Off a terminal the progress comes as whole lines a few seconds apart, and the last one. */
    @Test
    void progressOffATerminalIsOneLinePerFewSeconds() throws Exception {
        long[] clock = {0};
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        // a second a step, a log point every 2 steps, 40 steps: lines at 2, then 5 s apart, and 40
        new Trainer(timed(new TinyTask(new RefBackend()), clock, 1 / 60.0), settings(40, 1000), tmp.resolve("p"),
                new PrintStream(log, true, StandardCharsets.UTF_8), false).clock(() -> clock[0]).run(false);
        List<String> steps = log.toString(StandardCharsets.UTF_8).lines().filter(l -> l.startsWith("step "))
                .map(l -> l.substring(0, l.indexOf(' ', 5))).toList();
        assertEquals(List.of("step 2/40", "step 8/40", "step 14/40", "step 20/40", "step 26/40", "step 32/40", "step 38/40",
                "step 40/40"), steps);
    }

    /** Every device buffer a run makes is freed: after 5 or 60 steps only the two models' parameters remain. */
    @Test
    void aRunLeaksNoDeviceMemory() throws Exception {
        RefBackend be = new RefBackend();
        TinyTask task = new TinyTask(be);
        int models = be.live;
        train(task, settings(5, 100), tmp.resolve("short"), false, new ByteArrayOutputStream());
        assertEquals(models, be.live, "buffers alive after 5 steps");
        train(task, settings(60, 100), tmp.resolve("long"), false, new ByteArrayOutputStream());
        assertEquals(models, be.live, "buffers alive after 60 steps");
    }

    @Test
    void lossGoesDown() throws Exception {
        TinyTask task = new TinyTask(new RefBackend());
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        train(task, settings(150, 1000), tmp.resolve("run"), false, log);
        List<String> lines = Files.readAllLines(tmp.resolve("run").resolve(Trainer.METRICS));
        double early = 0, late = 0;
        for (int i = 0; i < 20; i++) {
            early += loss(lines.get(i));
            late += loss(lines.get(lines.size() - 1 - i));
        }
        assertTrue(late < 0.5 * early, "loss " + early / 20 + " -> " + late / 20);
    }

    private static double loss(String line) {
        int i = line.indexOf("\"loss\":") + 7;
        return Double.parseDouble(line.substring(i, line.indexOf(',', i)));
    }

    @Test
    void refusesToOverwriteARunAndToResumeNothing() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        train(new TinyTask(new RefBackend()), settings(2, 2), tmp.resolve("r"), false, log);
        InputException e = assertThrows(InputException.class,
                () -> train(new TinyTask(new RefBackend()), settings(2, 2), tmp.resolve("r"), false, log));
        assertTrue(e.getMessage().contains("--resume"), e.getMessage());
        e = assertThrows(InputException.class,
                () -> train(new TinyTask(new RefBackend()), settings(2, 2), tmp.resolve("none"), true, log));
        assertTrue(e.getMessage().contains("no checkpoint"), e.getMessage());
    }

    @Test
    void badCheckpointsGetOneLineNamingTheFile() throws Exception {
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        TinyTask task = new TinyTask(new RefBackend());
        train(task, settings(2, 2), tmp.resolve("r"), false, log);
        Path good = tmp.resolve("r").resolve(Trainer.CHECKPOINT);
        byte[] bytes = Files.readAllBytes(good);

        Path truncated = tmp.resolve("truncated.safetensors");
        Files.write(truncated, java.util.Arrays.copyOf(bytes, bytes.length - 10));
        assertOneLine(truncated, load(truncated, task));

        Path garbage = tmp.resolve("garbage.safetensors");
        Files.writeString(garbage, "this is not a checkpoint");
        assertOneLine(garbage, load(garbage, task));

        Path empty = tmp.resolve("empty.safetensors");
        Files.write(empty, new byte[0]);
        assertOneLine(empty, load(empty, task));

        Path missing = tmp.resolve("missing.safetensors");
        assertOneLine(missing, load(missing, task));

        assertOneLine(tmp, load(tmp, task));

        // plain weights are not a training checkpoint
        Path weights = tmp.resolve("r").resolve(Trainer.EMA_WEIGHTS);
        InputException e = load(weights, task);
        assertOneLine(weights, e);
        assertTrue(e.getMessage().contains("not a sisma training checkpoint"), e.getMessage());

        // another model shape
        Path other = tmp.resolve("other.safetensors");
        Map<String, Parameter> bigger = new java.util.LinkedHashMap<>(task.parameters());
        bigger.put("A_log", new Parameter(dev.sisma.engine.Tensor.zeros(task.be, 5)));
        Checkpoint.save(other, bigger, null, null, 3, 1, "{}", null);
        e = load(other, task);
        assertOneLine(other, e);
        assertTrue(e.getMessage().contains("A_log") && e.getMessage().contains("[5]") && e.getMessage().contains("[4]"), e.getMessage());

        // the good one loads and leaves the model with its values
        Checkpoint.Header h = Checkpoint.load(good, task.parameters(), null, null);
        assertEquals(2, h.step());
        assertEquals(11, h.seed());
        assertEquals("{\"name\":\"tiny\"}", h.configJson());
        assertEquals(TrainerTest.settings(2, 2), TrainSettings.fromMetadata(h.metadata(), good.toString()));
    }

    private static InputException load(Path p, TinyTask task) {
        return assertThrows(InputException.class, () -> Checkpoint.load(p, task.parameters(), null, null));
    }

    private static void assertOneLine(Path file, InputException e) {
        String m = e.getMessage();
        assertFalse(m.contains("\n"), m);
        assertTrue(m.contains(file.toString()), m);
    }
}
