package io.quantmesh.core.codec;

/** Argument checks for a batch of k-vectors stored back to back in a float[]. */
final class VectorBatch {
    private VectorBatch() {}

    static void checkFinite(float[] vectors, int count, int k) {
        if (count < 0 || (long) count * k > vectors.length) {
            throw new IllegalArgumentException(count + " vectors of size " + k + " need " + (long) count * k
                    + " floats, got " + vectors.length);
        }
        for (int i = 0; i < count * k; i++) {
            if (!Float.isFinite(vectors[i])) throw new IllegalArgumentException("vector " + i / k + " has a non-finite element");
        }
    }
}
