package dev.sisma.train.internal;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

import dev.sisma.engine.Tensor;
import dev.sisma.engine.nn.Parameter;

/**
 * What {@link Trainer} trains: a model, a second model of the same shape that holds the EMA
 * weights, and the loss of one step. The loop does the rest (optimizer, EMA, checkpoints, logs).
 */
public interface TrainingTask {
    /** The trained parameters by state-dict name. */
    Map<String, Parameter> parameters();

    /** The EMA model's parameters, same names and shapes (frozen). */
    Map<String, Parameter> emaParameters();

    /**
     * The scalar loss of step {@code step} (counting from 1) with the gradient tape recorded, in
     * the caller's scope. Every random number (batch indices, noise, t, mask dropout) must derive
     * from {@code (seed, step)} through Philox, so a resumed run repeats the same steps exactly.
     */
    Tensor loss(long step, long seed, int batch);

    /** The model config as JSON (stored in checkpoints). */
    String configJson();

    /** Writes a grid of EMA samples for the fixed validation masks; default: nothing. */
    default void writeSamples(Path png, long step) throws IOException {
    }

    /** One line for the start of the run (model size, data). */
    default String describe() {
        return "";
    }
}
