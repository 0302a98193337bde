package io.quantmesh.calibration;

/** The plain-Java twin of {@link VectorGram}: every element of {@code h += xᵀ x}, tokens in order. */
final class ReferenceGram {
    private ReferenceGram() {}

    static void update(double[] h, double[] x, int k, int d) {
        for (int i = 0; i < d; i++) {
            for (int j = 0; j < d; j++) {
                double s = h[i * d + j];
                for (int t = 0; t < k; t++) s += x[t * d + i] * x[t * d + j];
                h[i * d + j] = s;
            }
        }
    }
}
