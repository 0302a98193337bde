package io.quantmesh.quant;

import io.quantmesh.core.parallel.Parallel;
import java.util.SplittableRandom;

/** Test shorthands over {@link SyntheticLayer}, plus a diagonal Hessian. */
final class Synthetic {
    private Synthetic() {}

    static float[] weights(int rows, int cols, long seed) {
        return SyntheticLayer.weights(rows, cols, seed);
    }

    /** Rank-8 common factor, scales over two orders of magnitude, n = 2·cols samples (full rank). */
    static double[] correlatedHessian(int cols, long seed, int... deadColumns) {
        return SyntheticLayer.correlatedHessian(cols, 2 * cols, 8, 1.0, seed, Parallel.common(), deadColumns);
    }

    static double[] diagonalHessian(int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] h = new double[cols * cols];
        for (int j = 0; j < cols; j++) h[j * cols + j] = 0.1 + rng.nextDouble();
        return h;
    }
}
