package io.quantmesh.calibration;

import io.quantmesh.core.ops.KernelPool;

/**
 * The float64 sum {@code Σ x xᵀ} over every token seen at one site, and its token count n; {@link #finish()} turns
 * it into {@code H = (2/n) Σ x xᵀ} in place. Blocks arrive as float rows, are widened once, and go through one
 * rank-k update ({@link VectorGram}).
 */
final class HessianAccumulator {
    /** Largest dimension whose d×d doubles fit in one Java array. */
    static final int MAX_DIM = 46_340;

    private final int dim;
    private final double[] h;
    private final KernelPool pool;
    private double[] block = new double[0];
    private long tokens;
    private boolean finished;

    HessianAccumulator(int dim, KernelPool pool) {
        if (dim < 1 || dim > MAX_DIM) {
            throw new IllegalArgumentException("Hessian dimension must be 1.." + MAX_DIM + ", got " + dim);
        }
        this.dim = dim;
        this.h = new double[dim * dim];
        this.pool = pool;
    }

    static long bytes(int dim) {
        return 8L * dim * dim;
    }

    int dim() {
        return dim;
    }

    long tokens() {
        return tokens;
    }

    /** Adds rows {@code x[t*width .. +width)} for t < n. */
    void add(float[] x, int n, int width) {
        if (finished) throw new IllegalStateException("accumulator already finished");
        if (width != dim) throw new IllegalArgumentException("input width " + width + " at a site of dimension " + dim);
        if (n == 0) return;
        if (block.length < n * dim) block = new double[n * dim];
        for (int i = 0; i < n * dim; i++) block[i] = x[i];
        VectorGram.update(h, block, n, dim, pool);
        tokens += n;
    }

    /** {@code H = (2/n) Σ x xᵀ}, full and symmetric (all zeros if no token came). The accumulator is spent. */
    double[] finish() {
        if (!finished) {
            finished = true;
            block = null;
            VectorGram.symmetrize(h, dim);
            if (tokens > 0) {
                double scale = 2.0 / tokens;
                for (int i = 0; i < h.length; i++) h[i] *= scale;
            }
        }
        return h;
    }
}
