package io.quantmesh.codebook;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;

/**
 * Candidate directions for DACC: the distinct directions of lattice points inside a ball. For k = 8 the lattice is
 * E8 (integer or half-integer coordinates, all of one kind, with an even sum); for other k it is the checkerboard
 * lattice D_k (integer coordinates, even sum), D4 being the densest in 4 dimensions.
 *
 * <p>Points are held in doubled coordinates y = 2x, which are integers for both kinds: an E8 point has all y_i
 * even or all odd and {@code sum y ≡ 0 (mod 4)}; a D_k point has all y_i even and the same sum condition. Two
 * points share a direction exactly when their doubled coordinates divided by their gcd agree; that reduced vector
 * is the exact de-duplication key (no floating point), and the shortest point of each direction is kept. Whole
 * shells are taken (all points with ||x||^2 ≤ R^2 for the smallest even R^2 giving enough directions), ordered by
 * norm, then lexicographically by y, so the set and its order depend only on (k, minimum count).
 */
public final class LatticeCandidates {
    private final int k;
    private final int count;
    private final int maxNorm2Doubled;
    private final int[] points;
    private final float[] directions;

    private LatticeCandidates(int k, int[] points, int maxNorm2Doubled) {
        this.k = k;
        this.count = points.length / k;
        this.points = points;
        this.maxNorm2Doubled = maxNorm2Doubled;
        this.directions = new float[points.length];
        for (int j = 0; j < count; j++) {
            long nn = 0;
            for (int i = 0; i < k; i++) nn += (long) points[j * k + i] * points[j * k + i];
            double norm = Math.sqrt((double) nn); // IEEE sqrt: exact rounding, identical everywhere
            for (int i = 0; i < k; i++) directions[j * k + i] = (float) (points[j * k + i] / norm);
        }
    }

    /** The lattice DACC uses in dimension k: "E8" for k = 8, else "D" + k. */
    public static String latticeName(int k) {
        return k == 8 ? "E8" : "D" + k;
    }

    /** All distinct directions of lattice points with ||x||^2 ≤ R^2, for the smallest R^2 giving ≥ minCount. */
    public static LatticeCandidates atLeast(int k, int minCount) {
        if (k < 2 || k > 16) throw new IllegalArgumentException("lattice candidates need k = 2..16, got " + k);
        if (minCount < 1 || minCount > 4_000_000) throw new IllegalArgumentException("candidate count must be 1..4e6, got " + minCount);
        for (int norm2 = 2; ; norm2 += 2) { // norms^2 of D_k and E8 points are even integers
            LatticeCandidates c = withinNorm2(k, norm2);
            if (c.count >= minCount) return c;
        }
    }

    /** All distinct directions of lattice points with {@code ||x||^2 ≤ norm2}. */
    public static LatticeCandidates withinNorm2(int k, int norm2) {
        int limit = 4 * norm2; // in doubled coordinates
        List<int[]> found = new ArrayList<>();
        int[] y = new int[k];
        enumerate(y, 0, 0, limit, 0, found);          // integer points (y even)
        if (k == 8) enumerate(y, 0, 0, limit, 1, found); // half-integer points (y odd)
        found.sort((a, b) -> {
            int c = Integer.compare(norm2(a), norm2(b));
            return c != 0 ? c : Arrays.compare(a, b);
        });
        HashSet<Key> seen = new HashSet<>();
        int[] flat = new int[found.size() * k];
        int n = 0;
        for (int[] p : found) {
            if (seen.add(new Key(reduce(p)))) System.arraycopy(p, 0, flat, k * n++, k);
        }
        return new LatticeCandidates(k, Arrays.copyOf(flat, n * k), limit);
    }

    private record Key(int[] v) {
        @Override
        public boolean equals(Object o) {
            return o instanceof Key other && Arrays.equals(v, other.v);
        }

        @Override
        public int hashCode() {
            return Arrays.hashCode(v);
        }
    }

    // Depth-first over coordinates with the remaining squared-norm budget; parity 0: even y, 1: odd y.
    private static void enumerate(int[] y, int i, int used, int limit, int parity, List<int[]> out) {
        int k = y.length;
        if (i == k) {
            int sum = 0;
            for (int v : y) sum += v;
            if (used > 0 && Math.floorMod(sum, 4) == 0) out.add(y.clone());
            return;
        }
        int max = (int) Math.floor(Math.sqrt(limit - used));
        for (int v = -max; v <= max; v++) {
            if (Math.floorMod(v, 2) != parity) continue;
            int u = used + v * v;
            // the remaining coordinates need at least 1 each when odd
            if (u + (parity == 1 ? (k - i - 1) : 0) > limit) continue;
            y[i] = v;
            enumerate(y, i + 1, u, limit, parity, out);
        }
    }

    private static int norm2(int[] y) {
        int s = 0;
        for (int v : y) s += v * v;
        return s;
    }

    private static int[] reduce(int[] y) {
        int g = 0;
        for (int v : y) g = gcd(g, Math.abs(v));
        int[] r = new int[y.length];
        for (int i = 0; i < y.length; i++) r[i] = y[i] / g;
        return r;
    }

    private static int gcd(int a, int b) {
        while (b != 0) {
            int t = a % b;
            a = b;
            b = t;
        }
        return a;
    }

    public int k() {
        return k;
    }

    public int count() {
        return count;
    }

    /** The largest ||x||^2 included (in real coordinates). */
    public int maxNorm2() {
        return maxNorm2Doubled / 4;
    }

    /** Doubled lattice coordinates y = 2x of the shortest point of each direction, count x k. */
    public int[] points() {
        return points.clone();
    }

    /** Unit directions y / ||y|| as floats, count x k. */
    public float[] directions() {
        return directions.clone();
    }
}
