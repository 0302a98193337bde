package io.quantmesh.core.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * In-place normalised fast Walsh-Hadamard transform. A vector of length n is cut into blocks of
 * {@code p = n & -n} (the largest power of two dividing n) and each block is multiplied by the orthonormal
 * Sylvester matrix {@code H_p / √p}: symmetric and its own inverse. (n = 5632 = 11·512 gives eleven 512-blocks;
 * an odd n gives p = 1, the identity.)
 *
 * <p>The Vector API version runs butterflies of span ≥ one vector in lanes and the shorter ones in scalars;
 * each element sees the same additions either way, so it equals the {@code ...Naive} twin bit for bit.
 */
public final class Hadamard {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;

    private Hadamard() {}

    /** Size of the blocks a length-n vector is transformed in. */
    public static int blockSize(int n) {
        if (n <= 0) throw new IllegalArgumentException("length must be > 0, got " + n);
        return n & -n;
    }

    public static void transform(float[] x, int off, int n) {
        int p = blockSize(n), len = FS.length();
        float scale = (float) (1.0 / Math.sqrt(p));
        for (int b = off; b < off + n; b += p) {
            for (int h = 1; h < p; h <<= 1) {
                for (int i = b; i < b + p; i += 2 * h) {
                    int j = i;
                    if (h >= len) {
                        for (; j < i + h; j += len) {
                            FloatVector u = FloatVector.fromArray(FS, x, j), v = FloatVector.fromArray(FS, x, j + h);
                            u.add(v).intoArray(x, j);
                            u.sub(v).intoArray(x, j + h);
                        }
                    }
                    for (; j < i + h; j++) {
                        float u = x[j], v = x[j + h];
                        x[j] = u + v;
                        x[j + h] = u - v;
                    }
                }
            }
        }
        int i = off;
        for (; i + len <= off + n; i += len) FloatVector.fromArray(FS, x, i).mul(scale).intoArray(x, i);
        for (; i < off + n; i++) x[i] *= scale;
    }

    public static void transformNaive(float[] x, int off, int n) {
        int p = blockSize(n);
        float scale = (float) (1.0 / Math.sqrt(p));
        for (int b = off; b < off + n; b += p) {
            for (int h = 1; h < p; h <<= 1) {
                for (int i = b; i < b + p; i += 2 * h) {
                    for (int j = i; j < i + h; j++) {
                        float u = x[j], v = x[j + h];
                        x[j] = u + v;
                        x[j + h] = u - v;
                    }
                }
            }
        }
        for (int i = off; i < off + n; i++) x[i] *= scale;
    }

    public static void transform(double[] x, int off, int n) {
        int p = blockSize(n), len = DS.length();
        double scale = 1.0 / Math.sqrt(p);
        for (int b = off; b < off + n; b += p) {
            for (int h = 1; h < p; h <<= 1) {
                for (int i = b; i < b + p; i += 2 * h) {
                    int j = i;
                    if (h >= len) {
                        for (; j < i + h; j += len) {
                            DoubleVector u = DoubleVector.fromArray(DS, x, j), v = DoubleVector.fromArray(DS, x, j + h);
                            u.add(v).intoArray(x, j);
                            u.sub(v).intoArray(x, j + h);
                        }
                    }
                    for (; j < i + h; j++) {
                        double u = x[j], v = x[j + h];
                        x[j] = u + v;
                        x[j + h] = u - v;
                    }
                }
            }
        }
        int i = off;
        for (; i + len <= off + n; i += len) DoubleVector.fromArray(DS, x, i).mul(scale).intoArray(x, i);
        for (; i < off + n; i++) x[i] *= scale;
    }

    public static void transformNaive(double[] x, int off, int n) {
        int p = blockSize(n);
        double scale = 1.0 / Math.sqrt(p);
        for (int b = off; b < off + n; b += p) {
            for (int h = 1; h < p; h <<= 1) {
                for (int i = b; i < b + p; i += 2 * h) {
                    for (int j = i; j < i + h; j++) {
                        double u = x[j], v = x[j + h];
                        x[j] = u + v;
                        x[j + h] = u - v;
                    }
                }
            }
        }
        for (int i = off; i < off + n; i++) x[i] *= scale;
    }
}
