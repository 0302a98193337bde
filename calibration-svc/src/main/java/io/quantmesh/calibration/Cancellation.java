package io.quantmesh.calibration;

/** Polled by long-running work so that a cancelled or timed-out request stops it. */
@FunctionalInterface
public interface Cancellation {
    Cancellation NONE = () -> {};

    /** Throws {@link java.util.concurrent.CancellationException} when the caller gave up. */
    void check();
}
