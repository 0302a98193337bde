package io.quantmesh.codebook;

import io.quantmesh.core.codec.SignPrunedSearch;
import io.quantmesh.core.parallel.Parallel;

/**
 * Spherical k-means refinement of a direction codebook on sampled source directions: assign every sample to the
 * direction of largest cosine (exact sign-pruned search), move each direction to the normalised sum of its
 * samples, repeat. A direction that attracts no sample stays where it is. Sums run in sample order in double, so
 * the result is bit-identical for any thread count.
 */
public final class SphericalKMeans {
    /** Refined directions and the mean cosine between samples and their direction after each assignment. */
    public record Result(float[] directions, double[] meanCosine) {}

    private SphericalKMeans() {}

    /**
     * @param directions initial unit directions, n x k
     * @param samples    source vectors, m x k (normalised here; zero vectors are skipped)
     */
    public static Result refine(float[] directions, int k, float[] samples, int iterations, Parallel parallel, Cancellation cancel) {
        int n = directions.length / k;
        int m = samples.length / k;
        float[] units = new float[m * k];
        for (int s = 0; s < m; s++) {
            double nn = 0;
            for (int i = 0; i < k; i++) nn += (double) samples[s * k + i] * samples[s * k + i];
            double norm = Math.sqrt(nn);
            for (int i = 0; i < k; i++) units[s * k + i] = norm > 0 ? (float) (samples[s * k + i] / norm) : 0f;
        }
        float[] dirs = directions.clone();
        double[] meanCos = new double[iterations];
        int[] assign = new int[m];
        for (int it = 0; it < iterations; it++) {
            cancel.check();
            SignPrunedSearch search = new SignPrunedSearch(dirs, n, k);
            float[] current = dirs;
            parallel.forChunks(m, 4096, (c, from, to) -> {
                SignPrunedSearch.Searcher s = search.searcher();
                for (int v = from; v < to; v++) assign[v] = s.nearest(units, v * k);
            });
            double[] sum = new double[n * k];
            double cosSum = 0;
            for (int s = 0; s < m; s++) {
                int d = assign[s];
                double dot = 0;
                for (int i = 0; i < k; i++) {
                    sum[d * k + i] += units[s * k + i];
                    dot += (double) units[s * k + i] * current[d * k + i];
                }
                cosSum += dot;
            }
            meanCos[it] = cosSum / m;
            float[] next = current.clone();
            for (int d = 0; d < n; d++) {
                double nn = 0;
                for (int i = 0; i < k; i++) nn += sum[d * k + i] * sum[d * k + i];
                if (nn == 0) continue;
                double norm = Math.sqrt(nn);
                for (int i = 0; i < k; i++) next[d * k + i] = (float) (sum[d * k + i] / norm);
            }
            dirs = next;
        }
        return new Result(dirs, meanCos);
    }
}
