package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.codec.ScalarReference;
import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class WeightedKMeansTest {
    @Test
    void acceleratedSeedingKeepsExactPotentials() {
        int n = 5000, k = 8, K = 300;
        float[] x = new SeededGaussian(1).gaussians(n * k);
        int[] centers = new int[K];
        float[] d2 = KMeansPlusPlus.potentialsAfterSeeding(x, n, k, K, 9, centers);
        for (int i = 0; i < n; i++) {
            float min = Float.POSITIVE_INFINITY;
            for (int c : centers) min = Math.min(min, ScalarReference.distance2(x, i * k, x, c * k, k));
            assertEquals(min, d2[i], "point " + i);
        }
    }

    @Test
    void findsPlantedClustersAndIsThreadCountIndependent() {
        int k = 4, per = 200, K = 8;
        SeededGaussian g = new SeededGaussian(2);
        float[] x = new float[K * per * k];
        for (int c = 0; c < K; c++) {
            for (int p = 0; p < per; p++) {
                for (int d = 0; d < k; d++) x[(c * per + p) * k + d] = (float) (10 * c + (d == 0 ? 0 : 5 * d) + 0.1 * g.nextGaussian());
            }
        }
        WeightedKMeans.Spec spec = new WeightedKMeans.Spec(k, K, 5, 100, 0);
        WeightedKMeans.Result one = WeightedKMeans.fit(x, null, K * per, spec, Parallel.ofThreads(1), Cancellation.NONE);
        assertTrue(one.finalObjective() < 4 * 0.01 * 1.5, "objective " + one.finalObjective());
        try (Parallel two = Parallel.ofThreads(2)) {
            WeightedKMeans.Result r2 = WeightedKMeans.fit(x, null, K * per, spec, two, Cancellation.NONE);
            assertArrayEquals(one.centroids(), r2.centroids());
            assertArrayEquals(one.assignment(), r2.assignment());
        }
    }

    @Test
    void weightsPullCentroidsAndEmptyClustersAreRepaired() {
        // one cluster, two points: the weighted mean sits at 3/4 of the way to the heavy one
        float[] x = {0, 0, 4, 0};
        WeightedKMeans.Result r = WeightedKMeans.fit(x, new float[] {1, 3}, 2, new WeightedKMeans.Spec(2, 1, 0, 10, 0),
                Parallel.common(), Cancellation.NONE);
        assertArrayEquals(new float[] {3, 0}, r.centroids());
        // duplicates: 3 clusters over points {0,0,0,1,1,5}: seeding must pick duplicates or repairs must fill them
        float[] y = {0, 0, 0, 1, 1, 5};
        WeightedKMeans.Result s = WeightedKMeans.fit(y, null, 6, new WeightedKMeans.Spec(1, 3, 0, 20, 0), Parallel.common(), Cancellation.NONE);
        float[] c = s.centroids().clone();
        java.util.Arrays.sort(c);
        assertArrayEquals(new float[] {0, 1, 5}, c);
        assertEquals(0.0, s.finalObjective());
    }

    @Test
    void rejectsBadInput() {
        WeightedKMeans.Spec spec = new WeightedKMeans.Spec(2, 2, 0, 10, 1e-4);
        assertThrows(IllegalArgumentException.class, () -> WeightedKMeans.fit(new float[] {0, Float.NaN, 1, 1}, null, 2, spec, Parallel.common(), Cancellation.NONE));
        assertThrows(IllegalArgumentException.class, () -> WeightedKMeans.fit(new float[] {0, 0, 1, 1}, new float[] {1}, 2, spec, Parallel.common(), Cancellation.NONE));
        assertThrows(IllegalArgumentException.class, () -> WeightedKMeans.fit(new float[] {0, 0, 1, 1}, new float[] {0, 0}, 2, spec, Parallel.common(), Cancellation.NONE));
        assertThrows(IllegalArgumentException.class, () -> WeightedKMeans.fit(new float[] {0, 0}, null, 1, spec, Parallel.common(), Cancellation.NONE));
        assertThrows(IllegalArgumentException.class, () -> new WeightedKMeans.Spec(0, 2, 0, 10, 0));
    }
}
