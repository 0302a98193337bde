package io.quantmesh.codebook;

import io.quantmesh.core.codec.ScalarReference;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Weighted k-means++ seeding (each next center drawn with probability proportional to w_i D_i^2), accelerated
 * without changing its result by the triangle inequality (Raff, "Exact acceleration of k-means++", 2021).
 *
 * <p>Points are grouped by their nearest center so far. When a center c is added, a group whose center c_j has
 * {@code ||c - c_j|| >= 2 sqrt(R_j)} (R_j = the group's largest D^2) cannot lose a point to c, since
 * {@code ||x - c|| >= ||c - c_j|| - ||x - c_j|| >= sqrt(D_x)}; only the other groups are rescanned (with a relative
 * margin of 1e-4 so float rounding never skips a group that would change), and inside a rescanned group the same
 * test against each point's own D_x skips most distance computations. Draws walk a sum tree over the groups'
 * weighted potentials, then the group's points in order. Single-threaded and seeded: the same input gives the same
 * centers.
 */
public final class KMeansPlusPlus {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    private final float[] x;
    private final float[] w;
    private final int n, k, clusters;
    private final float[] d2;
    private int[][] members;
    private int[] size;
    private final float[] radius2;
    private final double[] tree;
    private final int leaves;
    private final float[] centerSoa;
    private final float[] threshold;
    private final int cap;

    private KMeansPlusPlus(float[] x, float[] w, int n, int k, int clusters) {
        this.x = x;
        this.w = w;
        this.n = n;
        this.k = k;
        this.clusters = clusters;
        this.d2 = new float[n];
        this.members = new int[clusters][];
        this.size = new int[clusters];
        this.radius2 = new float[clusters];
        int lv = 1;
        while (lv < clusters) lv <<= 1;
        this.leaves = lv;
        this.tree = new double[2 * lv];
        this.cap = (clusters + L - 1) / L * L;
        this.centerSoa = new float[k * cap];
        this.threshold = new float[cap];
        Arrays.fill(threshold, Float.NEGATIVE_INFINITY); // unused lanes never qualify
    }

    /**
     * Indices of {@code clusters} points chosen as initial centers, in draw order.
     *
     * @param w per-point weights (null: all 1); finite and non-negative with a positive sum
     */
    public static int[] seed(float[] x, float[] w, int n, int k, int clusters, long seed, Cancellation cancel) {
        if (clusters < 1 || clusters > n) throw new IllegalArgumentException("cannot seed " + clusters + " centers from " + n + " points");
        return new KMeansPlusPlus(x, w, n, k, clusters).run(new SeededGaussian(seed), cancel);
    }

    /** For tests: the centers and every point's squared distance to its nearest center as maintained by the seeding. */
    static float[] potentialsAfterSeeding(float[] x, int n, int k, int clusters, long seed, int[] centersOut) {
        KMeansPlusPlus s = new KMeansPlusPlus(x, null, n, k, clusters);
        System.arraycopy(s.run(new SeededGaussian(seed), Cancellation.NONE), 0, centersOut, 0, clusters);
        return s.d2;
    }

    private double weight(int i) {
        return w == null ? 1.0 : w[i];
    }

    private int[] run(SeededGaussian rnd, Cancellation cancel) {
        int[] centers = new int[clusters];
        boolean[] chosen = new boolean[n];
        // first center: drawn by weight alone
        double total = 0;
        for (int i = 0; i < n; i++) total += weight(i);
        int first = drawByWeight(rnd.nextDouble() * total);
        centers[0] = first;
        chosen[first] = true;
        setCenter(0, first);
        int[] all = new int[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
            d2[i] = ScalarReference.distance2(x, i * k, x, first * k, k);
        }
        members[0] = sortedByPotential(all, n);
        size[0] = n;
        refresh(0);
        int[] scan = new int[clusters];
        float[] scanDist = new float[clusters];
        for (int t = 1; t < clusters; t++) {
            if ((t & 255) == 0) cancel.check();
            int p = draw(rnd, chosen);
            centers[t] = p;
            chosen[p] = true;
            setCenter(t, p);
            int groups = nearGroups(p, t, scan, scanDist);
            int[] got = new int[8];
            int gotSize = 0;
            for (int g = 0; g < groups; g++) {
                int j = scan[g];
                double centerDist2 = scanDist[g];
                int[] list = members[j];
                int keep = 0;
                int m = 0;
                for (; m < size[j]; m++) {
                    int i = list[m];
                    // the same lemma per point: ||c - c_j|| >= 2 sqrt(D_x) means x cannot move, and members are
                    // sorted by decreasing D_x, so neither can any later one
                    if (centerDist2 >= 4.0 * d2[i] * (1 + 1e-4) + 1e-30) break;
                    float d = ScalarReference.distance2(x, i * k, x, p * k, k);
                    if (d < d2[i]) {
                        d2[i] = d;
                        if (gotSize == got.length) got = Arrays.copyOf(got, got.length * 2);
                        got[gotSize++] = i;
                    } else {
                        list[keep++] = i;
                    }
                }
                if (keep < m) { // close the gap left by the points that moved (order is kept)
                    System.arraycopy(list, m, list, keep, size[j] - m);
                    size[j] = keep + size[j] - m;
                    refresh(j);
                }
            }
            members[t] = sortedByPotential(got, gotSize);
            size[t] = gotSize;
            refresh(t);
        }
        return centers;
    }

    private int drawByWeight(double u) {
        double acc = 0;
        int last = 0;
        for (int i = 0; i < n; i++) {
            double wi = weight(i);
            if (wi <= 0) continue;
            last = i;
            acc += wi;
            if (acc > u) return i;
        }
        return last;
    }

    // Draws a point with probability proportional to w_i D_i^2; when every potential is 0, the first unchosen point.
    private int draw(SeededGaussian rnd, boolean[] chosen) {
        double total = tree[1];
        if (!(total > 0)) {
            for (int i = 0; i < n; i++) if (!chosen[i]) return i;
            throw new IllegalStateException("no point left to choose");
        }
        double u = rnd.nextDouble() * total;
        int node = 1;
        while (node < leaves) {
            double left = tree[2 * node];
            if (u < left) node = 2 * node;
            else {
                u -= left;
                node = 2 * node + 1;
            }
        }
        int j = node - leaves;
        if (size[j] == 0 || !(tree[node] > 0)) j = lastPositiveGroup(); // rounding at the far end of the tree
        int[] list = members[j];
        double acc = 0;
        int last = -1;
        for (int m = 0; m < size[j]; m++) {
            int i = list[m];
            double pi = weight(i) * d2[i];
            if (pi <= 0) continue;
            last = i;
            acc += pi;
            if (acc > u) return i;
        }
        return last;
    }

    private int lastPositiveGroup() {
        for (int j = clusters - 1; j >= 0; j--) if (tree[leaves + j] > 0) return j;
        throw new IllegalStateException("no positive potential");
    }

    private void setCenter(int t, int p) {
        for (int d = 0; d < k; d++) centerSoa[d * cap + t] = x[p * k + d];
    }

    // The first count points of ids, ordered by decreasing D (ties: lower index first).
    private int[] sortedByPotential(int[] ids, int count) {
        long[] keyed = new long[count];
        for (int m = 0; m < count; m++) {
            // D >= 0, so its float bits order like its value; ~index puts lower indices first after reversal
            keyed[m] = ((long) Float.floatToIntBits(d2[ids[m]]) << 32) | (~ids[m] & 0xffffffffL);
        }
        Arrays.sort(keyed);
        int[] out = new int[count];
        for (int m = 0; m < count; m++) out[m] = ~(int) keyed[count - 1 - m];
        return out;
    }

    // Recomputes group j's radius (its first member's D) and potential (summed in member order); updates the tree.
    private void refresh(int j) {
        int[] list = members[j];
        float r = size[j] == 0 ? 0 : d2[list[0]];
        double s = 0;
        for (int m = 0; m < size[j]; m++) {
            int i = list[m];
            s += weight(i) * d2[i];
        }
        radius2[j] = r;
        // ||c - c_j||^2 < 4 R_j, with a margin against rounding; an empty group never qualifies
        threshold[j] = size[j] == 0 ? Float.NEGATIVE_INFINITY : (float) (4.0 * r * (1 + 1e-4) + 1e-30);
        int node = leaves + j;
        tree[node] = s;
        for (node >>= 1; node >= 1; node >>= 1) tree[node] = tree[2 * node] + tree[2 * node + 1];
    }

    // Groups j < t whose points may be nearer to the new center p than to their own; ascending j.
    private int nearGroups(int p, int t, int[] out, float[] outDist) {
        int count = 0;
        int end = (t + L - 1) / L * L;
        for (int j = 0; j < end; j += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < k; d++) {
                FloatVector diff = FloatVector.fromArray(F, centerSoa, d * cap + j).sub(x[p * k + d]);
                acc = diff.fma(diff, acc);
            }
            VectorMask<Float> near = acc.compare(VectorOperators.LT, FloatVector.fromArray(F, threshold, j));
            if (near.anyTrue()) {
                for (int l = 0; l < L; l++) {
                    if (near.laneIsSet(l) && j + l < t) {
                        outDist[count] = acc.lane(l);
                        out[count++] = j + l;
                    }
                }
            }
        }
        return count;
    }
}
