package io.quantmesh.mesh;

/**
 * The pipeline's topics (DESIGN.md §2) without their prefix, and their partition counts: the quant tasks topic has
 * the most partitions because it is the one a consumer group of workers scales out on (at most one busy worker per
 * partition). Keys are job ids; tasks are keyed {@code <job>/<layer>} so one job's layers spread over the partitions.
 */
public enum Topic {
    SUBMITTED("checkpoints.submitted", 3),
    CALIBRATED("calibration.completed", 3),
    CODEBOOKS("codebooks.completed", 3),
    TASKS("quant.tasks", 12),
    RESULTS("quant.results", 3),
    QUANTIZED("checkpoints.quantized", 3),
    FAILED("jobs.failed", 3);

    private final String suffix;
    private final int partitions;

    Topic(String suffix, int partitions) {
        this.suffix = suffix;
        this.partitions = partitions;
    }

    public String suffix() {
        return suffix;
    }

    public int partitions() {
        return partitions;
    }
}
