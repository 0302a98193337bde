package io.quantmesh.core.linalg;

/** A Cholesky factorisation met a pivot that is not strictly positive (or not a number). */
public final class NotPositiveDefiniteException extends IllegalArgumentException {
    private final int pivot;
    private final double value;

    public NotPositiveDefiniteException(String what, int pivot, double value) {
        super(what + " is not positive definite: Cholesky pivot " + pivot + " is " + value
                + (Double.isNaN(value) ? "" : " (must be > 0)"));
        this.pivot = pivot;
        this.value = value;
    }

    /** Row/column index (0-based) at which the factorisation broke down. */
    public int pivot() {
        return pivot;
    }

    /** The Schur-complement diagonal value found there. */
    public double value() {
        return value;
    }
}
