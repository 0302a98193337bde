package io.quantmesh.core.codec;

/**
 * The plain-Java twins of the codeword searches, and the one canonical arithmetic every search uses.
 * A dot product is {@code x0*c0} followed by {@code fma(x_i, c_i, acc)} for i = 1..k-1; a squared distance
 * is {@code d0*d0} followed by {@code fma(d_i, d_i, acc)} with {@code d_i = x_i - c_i}. The Vector API kernels
 * ({@link CodewordTable}) perform exactly these operations lane-wise, so every search returns bit-identical
 * values and, with ties going to the lowest codeword index, identical indices.
 */
public final class ScalarReference {
    private ScalarReference() {}

    /** Canonical dot product of {@code x[xo..xo+k)} and {@code c[co..co+k)}. */
    public static float dot(float[] x, int xo, float[] c, int co, int k) {
        float acc = x[xo] * c[co];
        for (int i = 1; i < k; i++) acc = Math.fma(x[xo + i], c[co + i], acc);
        return acc;
    }

    /** Canonical squared Euclidean distance of {@code x[xo..xo+k)} and {@code c[co..co+k)}. */
    public static float distance2(float[] x, int xo, float[] c, int co, int k) {
        float d = x[xo] - c[co];
        float acc = d * d;
        for (int i = 1; i < k; i++) {
            d = x[xo + i] - c[co + i];
            acc = Math.fma(d, d, acc);
        }
        return acc;
    }

    /** Index of the row of {@code rows} (n x k) with the largest dot product with x; the first one on ties. */
    public static int argmaxDot(float[] rows, int n, int k, float[] x, int xo) {
        int best = 0;
        float bestV = Float.NEGATIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            float v = dot(x, xo, rows, j * k, k);
            if (v > bestV) {
                bestV = v;
                best = j;
            }
        }
        return best;
    }

    /** Index of the row of {@code rows} (n x k) nearest to x in Euclidean distance; the first one on ties. */
    public static int argminDistance(float[] rows, int n, int k, float[] x, int xo) {
        int best = 0;
        float bestV = Float.POSITIVE_INFINITY;
        for (int j = 0; j < n; j++) {
            float v = distance2(x, xo, rows, j * k, k);
            if (v < bestV) {
                bestV = v;
                best = j;
            }
        }
        return best;
    }

    /** Index of the level nearest to y (by |y - level|); the lowest index on ties. */
    public static int nearestLevel(float[] levels, float y) {
        int best = 0;
        float bestErr = Math.abs(y - levels[0]);
        for (int i = 1; i < levels.length; i++) {
            float e = Math.abs(y - levels[i]);
            if (e < bestErr) {
                bestErr = e;
                best = i;
            }
        }
        return best;
    }
}
