package io.quantmesh.codebook;

import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.parallel.Parallel;

/**
 * Weighted k-means (VPTQ's codebook initialisation and residual codebooks): minimises {@code sum_i w_i ||x_i - c(i)||^2}
 * with per-vector weights (VPTQ uses the Hessian diagonal H_jj of each vector's column). Seeded k-means++
 * ({@link KMeansPlusPlus}), then Lloyd iterations: exact nearest-centroid assignment ({@link KMeansCodec}, k-d tree
 * for large codebooks, in parallel), weighted means in double in point order; a cluster left with no weight is
 * repaired by moving its centroid onto the point of largest weighted error not yet used for a repair. Stops after
 * {@code maxIterations}, when no assignment changes, or when the objective improves by less than {@code tolerance}
 * (relative). Thread-count independent.
 */
public final class WeightedKMeans {
    /** Build parameters. */
    public record Spec(int k, int clusters, long seed, int maxIterations, double tolerance) {
        public Spec {
            if (k < 1 || k > 64) throw new IllegalArgumentException("vector size k must be 1..64, got " + k);
            if (clusters < 1 || clusters > 1 << 20) throw new IllegalArgumentException("clusters must be 1..2^20, got " + clusters);
            if (maxIterations < 0 || maxIterations > 10_000) throw new IllegalArgumentException("max iterations must be 0..10000, got " + maxIterations);
            if (!(tolerance >= 0) || !Double.isFinite(tolerance)) throw new IllegalArgumentException("tolerance must be finite and >= 0");
        }
    }

    /** Centroids (clusters x k), final assignment, objective per iteration (weighted SSE / total weight). */
    public record Result(float[] centroids, int[] assignment, double[] objective, int iterations, int repairs) {
        public double finalObjective() {
            return objective[objective.length - 1];
        }
    }

    private WeightedKMeans() {}

    /**
     * @param x       n vectors of size k, finite
     * @param weights n finite non-negative weights with a positive sum, or null for unweighted
     */
    public static Result fit(float[] x, float[] weights, int n, Spec spec, Parallel parallel, Cancellation cancel) {
        int k = spec.k();
        check(x, weights, n, spec);
        int K = spec.clusters();
        int[] seeds = KMeansPlusPlus.seed(x, weights, n, k, K, spec.seed(), cancel);
        float[] c = new float[K * k];
        for (int j = 0; j < K; j++) System.arraycopy(x, seeds[j] * k, c, j * k, k);
        int[] assign = new int[n];
        java.util.Arrays.fill(assign, -1);
        float[] dist = new float[n];
        double wsum = 0;
        for (int i = 0; i < n; i++) wsum += w(weights, i);
        double[] objective = new double[spec.maxIterations() + 1];
        int it = 0, repairs = 0;
        double prev = Double.POSITIVE_INFINITY;
        while (true) {
            cancel.check();
            KMeansCodec codec = new KMeansCodec(k, c);
            int[] changed = new int[Parallel.chunks(n, 4096)];
            parallel.forChunks(n, 4096, (chunk, from, to) -> {
                KMeansCodec.NearestFinder f = codec.finder(codec.defaultSearch());
                int ch = 0;
                for (int i = from; i < to; i++) {
                    int a = f.nearest(x, i * k, assign[i]); // last assignment as a hint: same answer, faster
                    if (a != assign[i]) ch++;
                    assign[i] = a;
                    dist[i] = codec.distance2(x, i * k, a);
                }
                changed[chunk] = ch;
            });
            double obj = 0;
            int moved = 0;
            for (int i = 0; i < n; i++) obj += w(weights, i) * dist[i];
            for (int ch : changed) moved += ch;
            obj /= wsum;
            objective[it] = obj;
            boolean converged = moved == 0 || (prev - obj) <= spec.tolerance() * prev;
            if (it == spec.maxIterations() || converged) {
                return new Result(c, assign, java.util.Arrays.copyOf(objective, it + 1), it, repairs);
            }
            prev = obj;
            // M-step: weighted means, summed in point order
            double[] sum = new double[K * k];
            double[] mass = new double[K];
            for (int i = 0; i < n; i++) {
                double wi = w(weights, i);
                int a = assign[i];
                mass[a] += wi;
                for (int d = 0; d < k; d++) sum[a * k + d] += wi * x[i * k + d];
            }
            int[] worst = null;
            int nextWorst = 0;
            for (int j = 0; j < K; j++) {
                if (mass[j] > 0) {
                    for (int d = 0; d < k; d++) c[j * k + d] = (float) (sum[j * k + d] / mass[j]);
                } else {
                    if (worst == null) worst = byDescendingError(weights, dist);
                    if (nextWorst < worst.length) {
                        System.arraycopy(x, worst[nextWorst++] * k, c, j * k, k);
                        repairs++;
                    }
                }
            }
            it++;
        }
    }

    private static double w(float[] weights, int i) {
        return weights == null ? 1.0 : weights[i];
    }

    // Points with positive weighted error, largest first (lowest index on ties): the repair order for empty clusters.
    private static int[] byDescendingError(float[] weights, float[] dist) {
        int n = dist.length;
        long[] keyed = new long[n];
        int m = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) (w(weights, i) * dist[i]);
            if (e > 0) keyed[m++] = ((long) Float.floatToIntBits(e) << 32) | (0xffffffffL - i); // e >= 0: bits order like values
        }
        long[] sorted = java.util.Arrays.copyOf(keyed, m);
        java.util.Arrays.sort(sorted);
        int[] out = new int[m];
        for (int r = 0; r < m; r++) out[r] = (int) (0xffffffffL - (sorted[m - 1 - r] & 0xffffffffL));
        return out;
    }

    private static void check(float[] x, float[] weights, int n, Spec spec) {
        int k = spec.k();
        if (n < 1 || (long) n * k > x.length) throw new IllegalArgumentException(n + " vectors of size " + k + " need " + (long) n * k + " floats, got " + x.length);
        if (spec.clusters() > n) throw new IllegalArgumentException(spec.clusters() + " clusters need at least as many vectors, got " + n);
        for (int i = 0; i < n * k; i++) {
            if (!Float.isFinite(x[i])) throw new IllegalArgumentException("vector " + i / k + " has a non-finite element");
        }
        if (weights != null) {
            if (weights.length != n) throw new IllegalArgumentException("got " + weights.length + " weights for " + n + " vectors");
            double s = 0;
            for (int i = 0; i < n; i++) {
                if (!Float.isFinite(weights[i]) || weights[i] < 0) throw new IllegalArgumentException("weight " + i + " must be finite and >= 0, got " + weights[i]);
                s += weights[i];
            }
            if (!(s > 0)) throw new IllegalArgumentException("weights sum to zero");
        }
    }
}
