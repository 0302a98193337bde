package io.quantmesh.quant;

import java.util.SplittableRandom;

/** Seeded synthetic layers: weights and a Hessian H = 2/n·XᵀX of correlated inputs. */
final class Synthetic {
    private Synthetic() {}

    static float[] weights(int rows, int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.02 * rng.nextGaussian());
        return w;
    }

    /**
     * Inputs x = G·z + ε with a rank-8 common factor z (features strongly correlated) and per-feature scales spread
     * over two orders of magnitude (a few loud channels, as in LLM activations); {@code deadColumns} inputs are
     * always zero. H = 2/n·XᵀX over n = 2·cols samples.
     */
    static double[] correlatedHessian(int cols, long seed, int... deadColumns) {
        SplittableRandom rng = new SplittableRandom(seed);
        int n = 2 * cols, k = 8;
        double[] g = new double[cols * k], scale = new double[cols];
        for (int i = 0; i < g.length; i++) g[i] = rng.nextGaussian();
        for (int j = 0; j < cols; j++) scale[j] = Math.exp(rng.nextGaussian());
        for (int d : deadColumns) scale[d] = 0;
        double[] x = new double[n * cols];
        double[] z = new double[k];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < k; i++) z[i] = rng.nextGaussian();
            for (int j = 0; j < cols; j++) {
                double v = 0.3 * rng.nextGaussian();
                for (int i = 0; i < k; i++) v += g[j * k + i] * z[i];
                x[s * cols + j] = scale[j] * v;
            }
        }
        double[] h = new double[cols * cols];
        for (int s = 0; s < n; s++) {
            for (int i = 0; i < cols; i++) {
                double xi = x[s * cols + i];
                if (xi == 0) continue;
                for (int j = 0; j <= i; j++) h[i * cols + j] += xi * x[s * cols + j];
            }
        }
        for (int i = 0; i < cols; i++) {
            for (int j = 0; j <= i; j++) h[i * cols + j] = h[j * cols + i] = 2.0 / n * h[i * cols + j];
        }
        return h;
    }

    static double[] diagonalHessian(int cols, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] h = new double[cols * cols];
        for (int j = 0; j < cols; j++) h[j * cols + j] = 0.1 + rng.nextDouble();
        return h;
    }
}
