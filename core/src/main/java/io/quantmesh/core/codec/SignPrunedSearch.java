package io.quantmesh.core.codec;

/**
 * Exact maximum-inner-product search over unit directions, pruned by sign pattern (orthant).
 *
 * <p>Every direction d goes to the cell of its sign pattern s (bit i set when d_i &lt; 0; a zero coordinate may go
 * either way, chosen by a hash so that cells stay balanced). For a query x and any d in cell s,
 * <pre>  x.d = sum_i (s_i x_i) |d_i| &lt;= sum_i max(s_i x_i, 0) |d_i| &lt;= ||(s o x)+|| * ||d||,</pre>
 * and {@code ||(s o x)+||^2 = ||x||^2 - sum_{i in F} x_i^2} where F is the set of coordinates on which s disagrees
 * with x's own signs. Cells are visited starting with x's own orthant, then by flipping sets F of coordinates in
 * a depth-first enumeration over the coordinates sorted by x_i^2; since the bound only shrinks as F grows, a flip
 * set whose bound cannot beat the best dot product found so far ends that branch and all larger ones.
 *
 * <p>Why the result equals the naive scan: both compute each visited dot with the canonical arithmetic (same bits),
 * and partial winners merge with the naive tie rule ({@link LaneBest}). A cell is skipped only when its bound plus a
 * rounding margin is strictly below the current best, and the margin ({@code 4 k 2^-24 ||x|| max||d||}) exceeds
 * the float error of any computed dot ({@code <= k 2^-24 ||x|| ||d||} for k roundings), so every skipped direction's
 * computed dot is strictly smaller than the winner's: it could neither win nor tie. Queries whose norm is outside
 * [1e-15, 1e15] (where float underflow or overflow would void that error bound) are scanned in full.
 */
public final class SignPrunedSearch {
    private final int k;
    private final int n;
    private final CodewordTable table;
    private final double maxNorm;

    /** @param directions n x k row-major, nonzero rows (unit vectors in the polar codec) */
    public SignPrunedSearch(float[] directions, int n, int k) {
        if (k < 1 || k > 16) throw new IllegalArgumentException("sign-pattern search supports k = 1..16, got " + k);
        this.k = k;
        this.n = n;
        int cells = 1 << k;
        int[] count = new int[cells];
        int[] cellOf = new int[n];
        double mx = 0;
        for (int j = 0; j < n; j++) {
            int cell = 0;
            double nn = 0;
            for (int i = 0; i < k; i++) {
                float v = directions[j * k + i];
                nn += (double) v * v;
                boolean negative = v < 0 || (v == 0 && zeroGoesNegative(j, i));
                if (negative) cell |= 1 << i;
            }
            mx = Math.max(mx, Math.sqrt(nn));
            cellOf[j] = cell;
            count[cell]++;
        }
        int[][] segments = new int[cells][];
        for (int c = 0; c < cells; c++) segments[c] = new int[count[c]];
        int[] fill = new int[cells];
        for (int j = 0; j < n; j++) segments[cellOf[j]][fill[cellOf[j]]++] = j;
        this.table = new CodewordTable(directions, k, segments);
        this.maxNorm = mx;
    }

    // A fixed mix of (row, coordinate): balances the cells of lattice directions, which have many zeros.
    private static boolean zeroGoesNegative(int row, int coord) {
        long h = (row * 0x9E3779B97F4A7C15L) ^ (coord * 0xC2B2AE3D27D4EB4FL);
        h ^= h >>> 31;
        h *= 0xBF58476D1CE4E5B9L;
        return ((h >>> 29) & 1) != 0;
    }

    public int size() {
        return n;
    }

    /** Per-query scratch (not thread-safe: one per thread). */
    public final class Searcher {
        private final LaneBest lanes = new LaneBest();
        private float best;
        private final double[] sq = new double[k];
        private final int[] order = new int[k];
        private float[] x;
        private int xo;
        private double total;
        private double margin;
        private int visitedCells;
        private long visitedPositions;

        /** Index of the direction with the largest dot product with {@code x[xo..xo+k)}; the first one on ties. */
        public int nearest(float[] x, int xo) {
            lanes.resetMax();
            best = Float.NEGATIVE_INFINITY;
            this.x = x;
            this.xo = xo;
            double t = 0;
            int own = 0;
            for (int i = 0; i < k; i++) {
                double v = x[xo + i];
                sq[i] = v * v;
                t += v * v;
                if (v < 0) own |= 1 << i;
            }
            total = t;
            if (!(t >= 1e-30 && t <= 1e30)) {
                for (int s = 0; s < table.segments(); s++) visit(s);
                return lanes.winnerMax();
            }
            margin = 4.0 * k * 0x1p-24 * Math.sqrt(t) * maxNorm;
            // coordinates by increasing x_i^2 (insertion sort, k <= 16)
            for (int i = 0; i < k; i++) {
                int j = i;
                while (j > 0 && sq[order[j - 1]] > sq[i]) {
                    order[j] = order[j - 1];
                    j--;
                }
                order[j] = i;
            }
            visit(own);
            flips(0, own, 0.0);
            return lanes.winnerMax();
        }

        private void flips(int start, int cell, double cost) {
            for (int j = start; j < k; j++) {
                int c = order[j];
                double next = cost + sq[c];
                if (prunable(next)) break; // later coordinates flip at least as much: prunable too
                int flipped = cell ^ (1 << c);
                visit(flipped);
                flips(j + 1, flipped, next);
            }
        }

        private boolean prunable(double flipCost) {
            double target = (double) best - margin;
            if (!(target > 0)) return false;
            double bound2 = (total - flipCost) * maxNorm * maxNorm;
            return bound2 < target * target;
        }

        private void visit(int cell) {
            visitedCells++;
            visitedPositions += table.segmentSize(cell);
            best = table.maxDot(x, xo, cell, lanes, best);
        }

        public int visitedCells() {
            return visitedCells;
        }

        /** Padded codeword positions scanned so far by this searcher (a cost counter for benchmarks). */
        public long visitedPositions() {
            return visitedPositions;
        }
    }

    public Searcher searcher() {
        return new Searcher();
    }
}
