package io.quantmesh.codebook;

/** Polled by long-running builds so that a cancelled or timed-out request stops the work. */
@FunctionalInterface
public interface Cancellation {
    Cancellation NONE = () -> {};

    /** Throws {@link java.util.concurrent.CancellationException} when the caller gave up. */
    void check();
}
