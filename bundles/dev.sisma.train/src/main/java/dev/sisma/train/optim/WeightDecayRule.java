package dev.sisma.train.optim;

import java.util.function.BiPredicate;

import dev.sisma.engine.nn.Parameter;

/**
 * Which parameters AdamW decays. The spec's rule ({@link #SISMA}): no decay on the Mamba
 * parameters {@code A_log}, {@code D} and the dt bias ({@code dt_proj.bias}), on norms, on biases
 * and on positional embeddings; nor on any parameter the model marked with
 * {@link Parameter#weightDecay(boolean) weightDecay(false)}. Everything else (weight matrices and
 * conv kernels) is decayed.
 */
@FunctionalInterface
public interface WeightDecayRule extends BiPredicate<String, Parameter> {

    /** True when the parameter called {@code name} gets weight decay. */
    @Override
    boolean test(String name, Parameter parameter);

    /** The spec's rule, see the type comment. */
    WeightDecayRule SISMA = (name, p) -> p.weightDecay() && decayedByName(name);

    /** Decays everything the model did not mark (for tests and other models). */
    WeightDecayRule MARKED_ONLY = (name, p) -> p.weightDecay();

    /** The name part of {@link #SISMA}: false for A_log, D, dt bias, norms, biases, positional embeddings. */
    static boolean decayedByName(String name) {
        String leaf = name.substring(name.lastIndexOf('.') + 1);
        if (leaf.equals("A_log") || leaf.equals("D") || leaf.equals("bias")) {
            return false; // dt_proj.bias (the dt bias) is covered by "bias"
        }
        String lower = name.toLowerCase(java.util.Locale.ROOT);
        return !(lower.contains("norm") || lower.contains("pos_embed") || leaf.equals("pos"));
    }
}
