package io.quantmesh.core.codec;

import java.util.Arrays;

/**
 * Exact nearest-codeword search (squared Euclidean distance) with a k-d tree over the codewords.
 *
 * <p>Nodes split at the median of their widest coordinate; leaves (at most {@code leafSize} codewords) are the
 * segments of a {@link CodewordTable} and are scanned with the Vector API. The search descends to the query's
 * leaf, then backtracks in the classic incremental way (Arya and Mount): the squared distance from the query to a
 * far cell is the near cell's bound with the split coordinate's term replaced by the squared distance to the
 * split plane, computed in double.
 *
 * <p>Why it returns the naive scan's index: visited leaves compute the canonical distances (same bits) and merge
 * with the naive tie rule; a cell is skipped only when its lower bound, shrunk by a relative margin that exceeds
 * the float rounding of any computed distance ({@code (k+2) 2^-24} relative), is still strictly above the best
 * computed distance, so nothing skipped could win or tie. Below 1e-20 (where float underflow voids the relative
 * error bound) nothing is skipped.
 */
public final class KdTreeSearch {
    private final int k;
    private final int n;
    private final CodewordTable table;
    // node arrays; node 0 is the root. For a leaf, splitDim = -1 and left = segment index.
    private final int[] splitDim;
    private final float[] splitValue;
    private final int[] left;
    private final int[] right;
    private final double shrink;
    private final float[] codewords;

    public KdTreeSearch(float[] codewords, int n, int k, int leafSize) {
        if (n < 1) throw new IllegalArgumentException("need at least one codeword");
        if (leafSize < 1) throw new IllegalArgumentException("leaf size must be >= 1");
        this.k = k;
        this.n = n;
        int maxNodes = 2 * Math.max(1, (n + leafSize - 1) / leafSize) * 2 + 1;
        Builder b = new Builder(codewords, k, leafSize, maxNodes);
        Integer[] idx = new Integer[n];
        for (int i = 0; i < n; i++) idx[i] = i;
        b.build(idx, 0, n);
        this.splitDim = Arrays.copyOf(b.splitDim, b.nodes);
        this.splitValue = Arrays.copyOf(b.splitValue, b.nodes);
        this.left = Arrays.copyOf(b.left, b.nodes);
        this.right = Arrays.copyOf(b.right, b.nodes);
        this.table = new CodewordTable(codewords, k, b.leaves.toArray(new int[0][]));
        this.shrink = 1.0 - 4.0 * (k + 2) * 0x1p-24;
        this.codewords = codewords;
    }

    private static final class Builder {
        final float[] c;
        final int k, leafSize;
        int[] splitDim;
        float[] splitValue;
        int[] left, right;
        int nodes;
        final java.util.List<int[]> leaves = new java.util.ArrayList<>();

        Builder(float[] c, int k, int leafSize, int maxNodes) {
            this.c = c;
            this.k = k;
            this.leafSize = leafSize;
            splitDim = new int[maxNodes];
            splitValue = new float[maxNodes];
            left = new int[maxNodes];
            right = new int[maxNodes];
        }

        int build(Integer[] idx, int from, int to) {
            int node = nodes++;
            if (node >= splitDim.length) grow();
            if (to - from <= leafSize) {
                int[] rows = new int[to - from];
                for (int i = from; i < to; i++) rows[i - from] = idx[i];
                Arrays.sort(rows); // ascending rows inside a leaf: lanes keep the first of equal scores
                splitDim[node] = -1;
                left[node] = leaves.size();
                leaves.add(rows);
                return node;
            }
            int dim = 0;
            float widest = -1;
            for (int d = 0; d < k; d++) {
                float lo = Float.POSITIVE_INFINITY, hi = Float.NEGATIVE_INFINITY;
                for (int i = from; i < to; i++) {
                    float v = c[idx[i] * k + d];
                    lo = Math.min(lo, v);
                    hi = Math.max(hi, v);
                }
                if (hi - lo > widest) {
                    widest = hi - lo;
                    dim = d;
                }
            }
            int dd = dim;
            // total order (value, row): deterministic, and rows with equal values may land on both sides
            Arrays.sort(idx, from, to, (a, b2) -> {
                int cmp = Float.compare(c[a * k + dd], c[b2 * k + dd]);
                return cmp != 0 ? cmp : Integer.compare(a, b2);
            });
            int mid = (from + to) >>> 1;
            splitDim[node] = dim;
            splitValue[node] = c[idx[mid] * k + dim];
            // left: positions [from, mid) all <= split; right: [mid, to) all >= split
            int l = build(idx, from, mid);
            int r = build(idx, mid, to);
            left[node] = l;
            right[node] = r;
            return node;
        }

        void grow() {
            int m = splitDim.length * 2;
            splitDim = Arrays.copyOf(splitDim, m);
            splitValue = Arrays.copyOf(splitValue, m);
            left = Arrays.copyOf(left, m);
            right = Arrays.copyOf(right, m);
        }
    }

    public int size() {
        return n;
    }

    /** Per-query scratch (one per thread). */
    public final class Searcher {
        private final LaneBest lanes = new LaneBest();
        private float best;
        private final double[] off = new double[k];
        private float[] x;
        private int xo;
        private long visitedPositions;

        /** Index of the codeword nearest to {@code x[xo..xo+k)}; the first one on ties. */
        public int nearest(float[] x, int xo) {
            return nearest(x, xo, -1);
        }

        /**
         * The same, starting from codeword {@code hint} (e.g. last iteration's assignment; -1 for none) as the best so
         * far: the search then prunes from its first leaf. The result is unchanged, since codewords tying with or
         * beating the hint are never pruned and the hint enters the lanes under the same tie rule.
         */
        public int nearest(float[] x, int xo, int hint) {
            lanes.resetMin();
            best = Float.POSITIVE_INFINITY;
            if (hint >= 0 && hint < n) {
                best = ScalarReference.distance2(x, xo, codewords, hint * k, k);
                lanes.value[0] = best;
                lanes.index[0] = hint;
            }
            this.x = x;
            this.xo = xo;
            Arrays.fill(off, 0.0);
            search(0, 0.0);
            return lanes.winnerMin();
        }

        public long visitedPositions() {
            return visitedPositions;
        }

        private void search(int node, double rd) {
            int d = splitDim[node];
            if (d < 0) {
                visitedPositions += table.segmentSize(left[node]);
                best = table.minDistance(x, xo, left[node], lanes, best);
                return;
            }
            double diff = (double) x[xo + d] - splitValue[node];
            int near = diff < 0 ? left[node] : right[node];
            int far = diff < 0 ? right[node] : left[node];
            search(near, rd);
            double old = off[d];
            double farRd = rd - old + diff * diff;
            if (prunable(farRd)) return;
            off[d] = diff * diff;
            search(far, farRd);
            off[d] = old;
        }

        private boolean prunable(double lowerBound) {
            float b = best;
            return b >= 1e-20f && lowerBound * shrink > b;
        }
    }

    public Searcher searcher() {
        return new Searcher();
    }
}
