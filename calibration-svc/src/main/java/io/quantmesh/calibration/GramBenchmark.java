package io.quantmesh.calibration;

import io.quantmesh.core.ops.KernelPool;

import java.util.SplittableRandom;

/**
 * Times the Hessian hot loop, {@code H += Xᵀ X} for one block of k tokens, side by side: the plain twin, the
 * Vector API kernel on one thread and on a pool (for {@code quantmesh bench-hessian}).
 */
public final class GramBenchmark {
    /** Seconds per block update of each variant. */
    public record Figure(int dim, int k, double naive, double vectorOne, double vectorAll) {
        /** Multiply-adds per second of a full (d×d) update, the naive twin's work. */
        public double gflops(double seconds) {
            return 2.0 * k * dim * dim / seconds / 1e9;
        }
    }

    private static final int ROUNDS = 3;

    private GramBenchmark() {}

    public static Figure run(int dim, int k, KernelPool one, KernelPool all, double seconds) {
        if (dim < 1 || dim > HessianAccumulator.MAX_DIM || k < 1 || (long) k * dim > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("bad benchmark shape " + dim + " x k=" + k);
        }
        SplittableRandom r = new SplittableRandom(dim * 31L + k);
        double[] x = new double[k * dim];
        for (int i = 0; i < x.length; i++) x[i] = (float) r.nextGaussian();
        double[] h = new double[dim * dim];
        Runnable[] variants = {() -> ReferenceGram.update(h, x, k, dim), () -> VectorGram.update(h, x, k, dim, one),
                () -> VectorGram.update(h, x, k, dim, all)};
        // interleaved rounds, best of each: load from other processes hits every variant alike
        double[] best = {Double.MAX_VALUE, Double.MAX_VALUE, Double.MAX_VALUE};
        for (int round = 0; round < ROUNDS; round++) {
            for (int v = 0; v < variants.length; v++) best[v] = Math.min(best[v], time(variants[v], seconds / ROUNDS));
        }
        return new Figure(dim, k, best[0], best[1], best[2]);
    }

    /** Seconds per call: one untimed call (JIT), then calls until the budget is spent (at least one). */
    private static double time(Runnable body, double seconds) {
        body.run();
        long budget = (long) (seconds * 1e9), t0 = System.nanoTime();
        long n = 0;
        do {
            body.run();
            n++;
        } while (System.nanoTime() - t0 < budget);
        return (System.nanoTime() - t0) / 1e9 / n;
    }
}
