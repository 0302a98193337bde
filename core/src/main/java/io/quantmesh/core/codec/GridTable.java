package io.quantmesh.core.codec;

/**
 * The scalar grids of AFPQ, normalised so that the largest magnitude is 1, indexed by code.
 * FP4 (E2M1) and FP3 use their sign-magnitude bit layout: code {@code s << (b-1) | m} with magnitudes
 * {0, 0.5, 1, 1.5, 2, 3, 4, 6} / 6 and {0, 1, 2, 4} / 4. NF4 and NF3 are NormalFloat tables
 * ({@link NormalFloat}): ascending, with one more positive level than negative ones and an exact 0.
 */
public enum GridTable {
    FP4(4, signMagnitude(new float[] {0f, 0.5f, 1f, 1.5f, 2f, 3f, 4f, 6f})),
    FP3(3, signMagnitude(new float[] {0f, 1f, 2f, 4f})),
    NF4(4, NormalFloat.table(4)),
    NF3(3, NormalFloat.table(3));

    private final int bits;
    private final float[] values;

    GridTable(int bits, float[] values) {
        if (values.length != 1 << bits) throw new IllegalStateException(name() + " has " + values.length + " values");
        this.bits = bits;
        this.values = values;
    }

    public int bits() {
        return bits;
    }

    public float value(int code) {
        return values[code];
    }

    public float[] table() {
        return values.clone();
    }

    /** The code whose value is nearest to y; the lowest code on ties. */
    public int nearest(float y) {
        return ScalarReference.nearestLevel(values, y);
    }

    private static float[] signMagnitude(float[] magnitudes) {
        int m = magnitudes.length;
        float max = magnitudes[m - 1];
        float[] v = new float[2 * m];
        for (int i = 0; i < m; i++) {
            v[i] = magnitudes[i] / max;
            v[m + i] = -magnitudes[i] / max;
        }
        return v;
    }
}
