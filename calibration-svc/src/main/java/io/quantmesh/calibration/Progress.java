package io.quantmesh.calibration;

/** Told after each calibration sequence has been run through the model. */
@FunctionalInterface
public interface Progress {
    Progress NONE = (done, total, tokens) -> {};

    void sequenceDone(int done, int total, long tokens);
}
