package io.quantmesh.core.codec;

import io.quantmesh.core.parallel.Parallel;

/**
 * Codec for an unstructured (k-means) codebook: a k-vector is coded as the index of the nearest centroid in
 * Euclidean distance, decoded as that centroid. Codes are {@link #codeBits()} wide.
 */
public final class KMeansCodec {
    /** How the nearest centroid is searched; all three return identical indices. */
    public enum Search {
        /** Plain Java scan of every centroid (the reference twin). */
        NAIVE,
        /** Vector API scan of every centroid. */
        VECTOR,
        /** Vector API scan of the k-d tree leaves that can still hold the winner ({@link KdTreeSearch}). */
        KDTREE
    }

    /** Codebooks at least this large are searched with the k-d tree by default (below, the brute-force scan of an
     * L2-resident table is faster on AVX-512 hardware). */
    private static final int TREE_THRESHOLD = 16384;
    private static final int LEAF_SIZE = 128; // measured: fewer, fuller leaves beat tighter pruning

    private final int k;
    private final int n;
    private final float[] centroids;
    private final int bits;
    private final CodewordTable whole;
    private volatile KdTreeSearch tree;

    public KMeansCodec(int k, float[] centroids) {
        if (k < 1 || k > 64) throw new IllegalArgumentException("vector size k must be 1..64, got " + k);
        if (centroids.length == 0 || centroids.length % k != 0) {
            throw new IllegalArgumentException("centroids length " + centroids.length + " is not a positive multiple of k=" + k);
        }
        for (int i = 0; i < centroids.length; i++) {
            if (!Float.isFinite(centroids[i])) throw new IllegalArgumentException("centroid " + i / k + " is not finite");
        }
        this.k = k;
        this.n = centroids.length / k;
        if (n > (1 << BitPacker.MAX_WIDTH)) throw new IllegalArgumentException(n + " centroids exceed 2^" + BitPacker.MAX_WIDTH);
        this.centroids = centroids.clone();
        this.bits = BitPacker.widthFor(n);
        this.whole = CodewordTable.whole(this.centroids, n, k);
    }

    public int k() {
        return k;
    }

    public int size() {
        return n;
    }

    public int codeBits() {
        return bits;
    }

    public float[] centroids() {
        return centroids.clone();
    }

    public float centroid(int j, int i) {
        return centroids[j * k + i];
    }

    /** The fastest exact search for this codebook size. */
    public Search defaultSearch() {
        return n >= TREE_THRESHOLD ? Search.KDTREE : Search.VECTOR;
    }

    private KdTreeSearch tree() {
        KdTreeSearch t = tree;
        if (t == null) {
            synchronized (this) {
                if (tree == null) tree = new KdTreeSearch(centroids, n, k, LEAF_SIZE);
                t = tree;
            }
        }
        return t;
    }

    /** Finds the nearest centroid of one query; instances hold scratch, one per thread. */
    @FunctionalInterface
    public interface NearestFinder {
        int nearest(float[] x, int xo);

        /** The same result, possibly faster given a likely answer (the k-d tree starts from it); -1 for none. */
        default int nearest(float[] x, int xo, int hint) {
            return nearest(x, xo);
        }
    }

    public NearestFinder finder(Search search) {
        return switch (search) {
            case NAIVE -> (x, xo) -> ScalarReference.argminDistance(centroids, n, k, x, xo);
            case VECTOR -> {
                LaneBest lanes = new LaneBest();
                yield (x, xo) -> {
                    lanes.resetMin();
                    whole.minDistance(x, xo, 0, lanes, Float.POSITIVE_INFINITY);
                    return lanes.winnerMin();
                };
            }
            case KDTREE -> {
                KdTreeSearch.Searcher s = tree().searcher();
                yield new NearestFinder() {
                    @Override
                    public int nearest(float[] x, int xo) {
                        return s.nearest(x, xo);
                    }

                    @Override
                    public int nearest(float[] x, int xo, int hint) {
                        return s.nearest(x, xo, hint);
                    }
                };
            }
        };
    }

    /** Canonical squared distance from {@code x[xo..]} to centroid j. */
    public float distance2(float[] x, int xo, int j) {
        return ScalarReference.distance2(x, xo, centroids, j * k, k);
    }

    /** Nearest-centroid codes of {@code count} vectors; independent of the thread count. Inputs must be finite. */
    public int[] encode(float[] vectors, int count, Search search, Parallel parallel) {
        VectorBatch.checkFinite(vectors, count, k);
        int[] codes = new int[count];
        parallel.forChunks(count, 1024, (chunk, from, to) -> {
            NearestFinder f = finder(search);
            for (int v = from; v < to; v++) codes[v] = f.nearest(vectors, v * k);
        });
        return codes;
    }

    public int[] encode(float[] vectors, int count) {
        return encode(vectors, count, defaultSearch(), Parallel.common());
    }

    public float[] decode(int[] codes, int count) {
        float[] out = new float[Math.multiplyExact(count, k)];
        for (int v = 0; v < count; v++) {
            int c = codes[v];
            if (c < 0 || c >= n) throw new IllegalArgumentException("code " + c + " at " + v + " is outside this codebook of " + n);
            System.arraycopy(centroids, c * k, out, v * k, k);
        }
        return out;
    }
}
