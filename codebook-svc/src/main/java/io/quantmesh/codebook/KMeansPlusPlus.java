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
 * <p>Points are grouped by their nearest center so far, each group storing its points' ids, coordinates and D^2
 * contiguously, sorted by decreasing D^2. When a center c is added, a point x of group j can only move if
 * {@code ||c - c_j|| < 2 sqrt(D_x)} (else {@code ||x - c|| >= ||c - c_j|| - ||x - c_j|| >= sqrt(D_x)}); so groups
 * with {@code ||c - c_j||^2 >= 4 max D} are skipped whole and the others are scanned only down to the first point
 * that fails the test (a relative margin of 1e-4 keeps float rounding from skipping a point that would move).
 * Each group's first point and second threshold are also kept flat, so the vector filter settles most groups
 * without touching their storage. Draws walk a sum tree over the groups' weighted potentials, then the group in order. Single-threaded and
 * seeded: the same input gives the same centers.
 */
public final class KMeansPlusPlus {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final int L = F.length();

    /**
     * One group: its points in decreasing D^2 order, coordinates dimension-major ({@code xs[d * stride + m]}) so the
     * distances of a run of members are one vector loop. A group never gains members after it is made, so its
     * stride (the size it was made with, rounded up to the lane count) never changes.
     */
    private static final class Group {
        final int[] ids;
        final float[] xs;
        final float[] ds;
        final int stride;
        int size;

        Group(int count, int k) {
            stride = Math.max(L, (count + L - 1) / L * L);
            ids = new int[Math.max(count, 1)];
            xs = new float[stride * k];
            ds = new float[Math.max(count, 1)];
        }
    }

    private final float[] x;
    private final float[] w;
    private final int n, k, clusters;
    private final Group[] groups;
    private final double[] tree;
    private final int leaves;
    private final float[] centerSoa;
    private final float[] threshold;
    // per group, flat for the vector filter: its first (largest-D) point and the second point's skip threshold
    private final float[] headSoa;
    private final float[] headD;
    private final float[] secondThreshold;
    private final int cap;

    private KMeansPlusPlus(float[] x, float[] w, int n, int k, int clusters) {
        this.x = x;
        this.w = w;
        this.n = n;
        this.k = k;
        this.clusters = clusters;
        this.groups = new Group[clusters];
        int lv = 1;
        while (lv < clusters) lv <<= 1;
        this.leaves = lv;
        this.tree = new double[2 * lv];
        this.cap = (clusters + L - 1) / L * L;
        this.centerSoa = new float[k * cap];
        this.threshold = new float[cap];
        this.headSoa = new float[k * cap];
        this.headD = new float[cap];
        this.secondThreshold = new float[cap];
        Arrays.fill(threshold, Float.NEGATIVE_INFINITY); // unused lanes never qualify
        Arrays.fill(secondThreshold, Float.NEGATIVE_INFINITY);
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
        float[] d2 = new float[n];
        for (Group g : s.groups) for (int m = 0; m < g.size; m++) d2[g.ids[m]] = g.ds[m];
        return d2;
    }

    private double weight(int i) {
        return w == null ? 1.0 : w[i];
    }

    private int[] run(SeededGaussian rnd, Cancellation cancel) {
        int[] centers = new int[clusters];
        boolean[] chosen = new boolean[n];
        double total = 0;
        for (int i = 0; i < n; i++) total += weight(i);
        int first = drawByWeight(rnd.nextDouble() * total); // the first center: drawn by weight alone
        centers[0] = first;
        chosen[first] = true;
        setCenter(0, first);
        int[] all = new int[n];
        float[] d = new float[n];
        for (int i = 0; i < n; i++) {
            all[i] = i;
            d[i] = ScalarReference.distance2(x, i * k, x, first * k, k);
        }
        groups[0] = sortedGroup(all, d, n);
        refresh(0);
        int[] scan = new int[clusters];
        float[] scanDist = new float[clusters];
        float[] c = new float[k];
        int[] gotIds = new int[64];
        float[] dist = new float[64];
        float[] gotD = new float[64];
        for (int t = 1; t < clusters; t++) {
            if ((t & 255) == 0) cancel.check();
            int p = draw(rnd, chosen);
            centers[t] = p;
            chosen[p] = true;
            setCenter(t, p);
            System.arraycopy(x, p * k, c, 0, k);
            int near = nearGroups(p, t, scan, scanDist);
            int got = 0;
            for (int gi = 0; gi < near; gi++) {
                int j = scan[gi];
                double centerDist2 = scanDist[gi];
                Group g = groups[j];
                // x cannot move unless ||c - c_j|| < 2 sqrt(D_x); points are sorted by decreasing D_x, so the
                // candidates are a prefix, whose distances are computed first in a branch-free loop
                int m = 0;
                while (m < g.size && centerDist2 < 4.0 * g.ds[m] * (1 + 1e-4) + 1e-30) m++;
                if (dist.length < m) dist = new float[Math.max(m, dist.length * 2)];
                distances(g, m, c, dist);
                int keep = 0;
                for (int q = 0; q < m; q++) {
                    float dm = g.ds[q];
                    if (dist[q] < dm) {
                        if (got == gotIds.length) {
                            gotIds = Arrays.copyOf(gotIds, got * 2);
                            gotD = Arrays.copyOf(gotD, got * 2);
                        }
                        gotIds[got] = g.ids[q];
                        gotD[got++] = dist[q];
                    } else {
                        if (keep != q) {
                            g.ids[keep] = g.ids[q];
                            g.ds[keep] = dm;
                            for (int e = 0; e < k; e++) g.xs[e * g.stride + keep] = g.xs[e * g.stride + q];
                        }
                        keep++;
                    }
                }
                if (keep < m) { // close the gap left by the points that moved (order is kept)
                    int tail = g.size - m;
                    System.arraycopy(g.ids, m, g.ids, keep, tail);
                    System.arraycopy(g.ds, m, g.ds, keep, tail);
                    for (int e = 0; e < k; e++) System.arraycopy(g.xs, e * g.stride + m, g.xs, e * g.stride + keep, tail);
                    g.size = keep + tail;
                    refresh(j);
                }
            }
            groups[t] = sortedGroup(gotIds, gotD, got);
            refresh(t);
        }
        return centers;
    }

    // Squared distances from c to the group's first m members, lane-wise in the canonical order (d0*d0, then fma).
    private void distances(Group g, int m, float[] c, float[] out) {
        int q = 0;
        for (; q + L <= m; q += L) {
            FloatVector diff = FloatVector.fromArray(F, g.xs, q).sub(c[0]);
            FloatVector acc = diff.mul(diff);
            for (int d = 1; d < k; d++) {
                diff = FloatVector.fromArray(F, g.xs, d * g.stride + q).sub(c[d]);
                acc = diff.fma(diff, acc);
            }
            acc.intoArray(out, q);
        }
        for (; q < m; q++) {
            float diff = g.xs[q] - c[0];
            float acc = diff * diff;
            for (int d = 1; d < k; d++) {
                diff = g.xs[d * g.stride + q] - c[d];
                acc = Math.fma(diff, diff, acc);
            }
            out[q] = acc;
        }
    }

    // A group of the first count (id, D) pairs, ordered by decreasing D (ties: lower id first), with coordinates.
    private Group sortedGroup(int[] ids, float[] ds, int count) {
        long[] keyed = new long[count];
        for (int m = 0; m < count; m++) {
            // D >= 0, so its float bits order like its value; ~id puts lower ids first after the reversal
            keyed[m] = ((long) Float.floatToIntBits(ds[m]) << 32) | (~ids[m] & 0xffffffffL);
        }
        Arrays.sort(keyed);
        Group g = new Group(count, k);
        for (int m = 0; m < count; m++) {
            long e = keyed[count - 1 - m];
            int id = ~(int) e;
            g.ids[m] = id;
            g.ds[m] = Float.intBitsToFloat((int) (e >>> 32));
            for (int d = 0; d < k; d++) g.xs[d * g.stride + m] = x[id * k + d];
        }
        g.size = count;
        return g;
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
        if (j >= clusters || groups[j] == null || !(tree[node] > 0)) j = lastPositiveGroup(); // rounding at the far end
        Group g = groups[j];
        double acc = 0;
        int last = -1;
        for (int m = 0; m < g.size; m++) {
            double pi = weight(g.ids[m]) * g.ds[m];
            if (pi <= 0) continue;
            last = g.ids[m];
            acc += pi;
            if (acc > u) return last;
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

    // Recomputes group j's potential (summed in member order) and its skip threshold; updates the sum tree.
    private void refresh(int j) {
        Group g = groups[j];
        double s = 0;
        for (int m = 0; m < g.size; m++) s += weight(g.ids[m]) * g.ds[m];
        float r = g.size == 0 ? 0 : g.ds[0];
        // ||c - c_j||^2 < 4 max D, with a margin against rounding; an empty group never qualifies
        threshold[j] = g.size == 0 ? Float.NEGATIVE_INFINITY : (float) (4.0 * r * (1 + 1e-4) + 1e-30);
        secondThreshold[j] = g.size < 2 ? Float.NEGATIVE_INFINITY : (float) (4.0 * g.ds[1] * (1 + 1e-4) + 1e-30);
        headD[j] = r;
        for (int d = 0; d < k; d++) headSoa[d * cap + j] = g.size == 0 ? 0f : g.xs[d * g.stride];
        int node = leaves + j;
        tree[node] = s;
        for (node >>= 1; node >= 1; node >>= 1) tree[node] = tree[2 * node] + tree[2 * node + 1];
    }

    /*
     * Groups j < t that may lose a point to the new center p, ascending j, with ||c - c_j||^2. A group passes when the
     * lemma allows its first point to move and either that point does move (its distance to c, computed exactly as
     * the canonical scalar distance, is below its D) or the lemma also allows the second point to move; groups whose
     * first point stays and whose second cannot move are settled here without touching their storage.
     */
    private int nearGroups(int p, int t, int[] out, float[] outDist) {
        int count = 0;
        int end = (t + L - 1) / L * L;
        int pk = p * k;
        for (int j = 0; j < end; j += L) {
            FloatVector acc = FloatVector.zero(F);
            for (int d = 0; d < k; d++) {
                FloatVector diff = FloatVector.fromArray(F, centerSoa, d * cap + j).sub(x[pk + d]);
                acc = diff.fma(diff, acc);
            }
            VectorMask<Float> lemma = acc.compare(VectorOperators.LT, FloatVector.fromArray(F, threshold, j));
            if (!lemma.anyTrue()) continue;
            FloatVector diff = FloatVector.fromArray(F, headSoa, j).sub(x[pk]);
            FloatVector head = diff.mul(diff);
            for (int d = 1; d < k; d++) {
                diff = FloatVector.fromArray(F, headSoa, d * cap + j).sub(x[pk + d]);
                head = diff.fma(diff, head);
            }
            VectorMask<Float> visit = lemma.and(head.compare(VectorOperators.LT, FloatVector.fromArray(F, headD, j))
                    .or(acc.compare(VectorOperators.LT, FloatVector.fromArray(F, secondThreshold, j))));
            if (visit.anyTrue()) {
                for (int l = 0; l < L; l++) {
                    if (visit.laneIsSet(l) && j + l < t) {
                        outDist[count] = acc.lane(l);
                        out[count++] = j + l;
                    }
                }
            }
        }
        return count;
    }
}
