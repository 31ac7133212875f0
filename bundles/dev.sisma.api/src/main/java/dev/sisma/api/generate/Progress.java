package dev.sisma.api.generate;

/** Progress reports from a long job, and its way to ask for cancel. */
public interface Progress {
    /** Called after each step; {@code secondsPerStep} is the running average. */
    void step(int done, int total, double secondsPerStep);

    /** Polled between steps; true stops the job with a {@link java.util.concurrent.CancellationException}. */
    default boolean cancelled() {
        return false;
    }

    Progress NONE = (done, total, sps) -> {
    };
}
