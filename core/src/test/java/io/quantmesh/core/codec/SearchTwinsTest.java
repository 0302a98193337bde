package io.quantmesh.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import io.quantmesh.core.parallel.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

/** The Vector API kernels and the pruned searches against their plain-Java twin: identical indices. */
class SearchTwinsTest {
    static float[] gaussian(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) gauss(r);
        return v;
    }

    static double gauss(SplittableRandom r) {
        double u = r.nextDouble(), w = r.nextDouble();
        return Math.sqrt(-2 * Math.log1p(-u)) * Math.cos(2 * Math.PI * w);
    }

    static float[] normalizedRows(float[] v, int k) {
        float[] out = v.clone();
        for (int j = 0; j < v.length / k; j++) {
            double nn = 0;
            for (int i = 0; i < k; i++) nn += (double) v[j * k + i] * v[j * k + i];
            for (int i = 0; i < k; i++) out[j * k + i] = (float) (v[j * k + i] / Math.sqrt(nn));
        }
        return out;
    }

    /** Directions with many zeros, exact duplicates and sign-symmetric copies: lattice-like ties everywhere. */
    static float[] latticeLikeDirections(int k, int n, SplittableRandom r) {
        float[] d = new float[n * k];
        for (int j = 0; j < n; j++) {
            if (j > 0 && r.nextInt(5) == 0) { // duplicate of an earlier row
                System.arraycopy(d, r.nextInt(j) * k, d, j * k, k);
                continue;
            }
            boolean nz = false;
            for (int i = 0; i < k; i++) {
                int c = r.nextInt(5) - 2; // -2..2, many zeros
                d[j * k + i] = c;
                nz |= c != 0;
            }
            if (!nz) d[j * k] = 1;
        }
        return normalizedRows(d, k);
    }

    static float[] queries(int k, int q, float[] dirs, SplittableRandom r) {
        float[] x = gaussian(r, q * k);
        int n = dirs.length / k;
        for (int t = 0; t < q; t += 7) System.arraycopy(dirs, r.nextInt(n) * k, x, t * k, k); // exactly a codeword
        for (int t = 3; t < q; t += 11) for (int i = 0; i < k; i += 2) x[t * k + i] = 0; // zero coordinates
        for (int t = 5; t < q; t += 13) for (int i = 0; i < k; i++) x[t * k + i] = Math.round(x[t * k + i]); // small ints
        java.util.Arrays.fill(x, 0, k, 0f); // the zero vector
        for (int i = 0; i < k; i++) x[k + i] *= 1e-20f; // outside the pruning range
        for (int i = 0; i < k; i++) x[2 * k + i] *= 1e20f;
        return x;
    }

    @Test
    void polarSearchesAgree() {
        SplittableRandom r = new SplittableRandom(7);
        for (int k : new int[] {4, 6, 8, 3}) {
            for (int variant = 0; variant < 2; variant++) {
                int n = variant == 0 ? 1500 : 600;
                float[] dirs = variant == 0 ? normalizedRows(gaussian(r, n * k), k) : latticeLikeDirections(k, n, r);
                PolarCodec codec = new PolarCodec(k, dirs, new float[] {0.5f, 1f, 2f, 3f});
                int q = 3000;
                float[] x = queries(k, q, dirs, r);
                int[] naive = codec.encode(x, q, PolarCodec.Search.NAIVE, Parallel.ofThreads(1));
                int[] vector = codec.encode(x, q, PolarCodec.Search.VECTOR, Parallel.ofThreads(1));
                int[] pruned = codec.encode(x, q, PolarCodec.Search.PRUNED, Parallel.ofThreads(1));
                assertArrayEquals(naive, vector, "vector vs naive, k=" + k + " variant " + variant);
                assertArrayEquals(naive, pruned, "pruned vs naive, k=" + k + " variant " + variant);
                try (Parallel two = Parallel.ofThreads(2)) {
                    assertArrayEquals(naive, codec.encode(x, q, PolarCodec.Search.PRUNED, two));
                }
            }
        }
    }

    @Test
    void prunedSearchVisitsFewCells() {
        SplittableRandom r = new SplittableRandom(3);
        int k = 8, n = 1 << 14;
        SignPrunedSearch s = new SignPrunedSearch(normalizedRows(gaussian(r, n * k), k), n, k);
        SignPrunedSearch.Searcher sr = s.searcher();
        int q = 2000;
        float[] x = gaussian(r, q * k);
        for (int t = 0; t < q; t++) sr.nearest(x, t * k);
        double frac = sr.visitedPositions() / (double) q / n;
        // a sanity bound, not a benchmark: the orthant bound must prune most of the codebook
        org.junit.jupiter.api.Assertions.assertTrue(frac < 0.25, "visited fraction " + frac);
    }

    @Test
    void euclideanSearchesAgree() {
        SplittableRandom r = new SplittableRandom(11);
        for (int k : new int[] {1, 3, 8, 12}) {
            for (int variant = 0; variant < 2; variant++) {
                int n = 2000;
                float[] c = variant == 0 ? gaussian(r, n * k) : latticeLikeDirections(k, n, r);
                KMeansCodec codec = new KMeansCodec(k, c);
                int q = 3000;
                float[] x = queries(k, q, c, r);
                int[] naive = codec.encode(x, q, KMeansCodec.Search.NAIVE, Parallel.ofThreads(1));
                assertArrayEquals(naive, codec.encode(x, q, KMeansCodec.Search.VECTOR, Parallel.ofThreads(1)), "vector k=" + k);
                assertArrayEquals(naive, codec.encode(x, q, KMeansCodec.Search.KDTREE, Parallel.ofThreads(1)), "kd k=" + k);
                try (Parallel two = Parallel.ofThreads(2)) {
                    assertArrayEquals(naive, codec.encode(x, q, KMeansCodec.Search.KDTREE, two));
                }
                // any hint (right, wrong, a tie partner, none) leaves the k-d tree's answer unchanged
                KMeansCodec.NearestFinder f = codec.finder(KMeansCodec.Search.KDTREE);
                for (int t = 0; t < q; t++) {
                    int hint = t % 4 == 0 ? naive[t] : t % 4 == 1 ? r.nextInt(n) : t % 4 == 2 ? -1 : (naive[t] + 1) % n;
                    assertEquals(naive[t], f.nearest(x, t * k, hint), "hinted query " + t);
                }
            }
        }
    }

    @Test
    void tiesGoToTheLowestIndex() {
        // two identical directions / centroids: the first always wins, in every search
        float[] dirs = {1, 0, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0};
        PolarCodec polar = new PolarCodec(4, dirs, new float[] {1f});
        float[] x = {2, 0.5f, 0, 0};
        for (PolarCodec.Search s : PolarCodec.Search.values()) assertEquals(0, polar.finder(s).nearest(x, 0));
        KMeansCodec km = new KMeansCodec(4, dirs);
        float[] y = {0, 0, 0, 0.5f}; // equidistant from all four
        for (KMeansCodec.Search s : KMeansCodec.Search.values()) assertEquals(0, km.finder(s).nearest(y, 0));
    }
}
