package io.quantmesh.core.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorShuffle;
import jdk.incubator.vector.VectorSpecies;

/**
 * In-place normalised fast Walsh-Hadamard transform. A vector of length n is cut into blocks of
 * {@code p = n & -n} (the largest power of two dividing n) and each block is multiplied by the orthonormal
 * Sylvester matrix {@code H_p / √p}: symmetric and its own inverse. (n = 5632 = 11·512 gives eleven 512-blocks;
 * an odd n gives p = 1, the identity.)
 *
 * <p>The Vector API version runs butterflies of span ≥ one vector lane-parallel across vectors and the shorter
 * ones inside a register (rearrange to the partner lane, add/subtract, blend); each element sees the same
 * additions as in the {@code ...Naive} twin, so the two agree bit for bit.
 */
public final class Hadamard {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    // Butterfly of span h = 2^s inside one vector: lane i pairs with lane i^h; lanes with bit h set take
    // partner − self (= x[i-h] − x[i]), the others self + partner (= x[i] + x[i+h]), the naive twin's operations.
    private static final VectorShuffle<Float>[] F_PARTNER = partners(FS);
    private static final VectorMask<Float>[] F_UPPER = uppers(FS);
    private static final VectorShuffle<Double>[] D_PARTNER = partners(DS);
    private static final VectorMask<Double>[] D_UPPER = uppers(DS);

    private Hadamard() {}

    @SuppressWarnings("unchecked")
    private static <E> VectorShuffle<E>[] partners(VectorSpecies<E> species) {
        int stages = Integer.numberOfTrailingZeros(species.length());
        VectorShuffle<E>[] out = new VectorShuffle[stages];
        for (int s = 0; s < stages; s++) {
            int h = 1 << s;
            out[s] = VectorShuffle.fromOp(species, i -> i ^ h);
        }
        return out;
    }

    @SuppressWarnings("unchecked")
    private static <E> VectorMask<E>[] uppers(VectorSpecies<E> species) {
        int stages = Integer.numberOfTrailingZeros(species.length());
        VectorMask<E>[] out = new VectorMask[stages];
        for (int s = 0; s < stages; s++) {
            long bits = 0;
            for (int i = 0; i < species.length(); i++) if ((i & (1 << s)) != 0) bits |= 1L << i;
            out[s] = VectorMask.fromLong(species, bits);
        }
        return out;
    }

    /** Size of the blocks a length-n vector is transformed in. */
    public static int blockSize(int n) {
        if (n <= 0) throw new IllegalArgumentException("length must be > 0, got " + n);
        return n & -n;
    }

    public static void transform(float[] x, int off, int n) {
        int p = blockSize(n), len = FS.length();
        float scale = (float) (1.0 / Math.sqrt(p));
        for (int b = off; b < off + n; b += p) {
            int h = 1;
            if (p >= len) {            // spans 1..len/2 inside each vector, all in registers
                for (int i = b; i < b + p; i += len) {
                    FloatVector v = FloatVector.fromArray(FS, x, i);
                    for (int s = 0; (1 << s) < len; s++) {
                        FloatVector partner = v.rearrange(F_PARTNER[s]);
                        v = v.add(partner).blend(partner.sub(v), F_UPPER[s]);
                    }
                    v.intoArray(x, i);
                }
                h = len;
            }
            for (; h < p; h <<= 1) {
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
            int h = 1;
            if (p >= len) {            // spans 1..len/2 inside each vector, all in registers
                for (int i = b; i < b + p; i += len) {
                    DoubleVector v = DoubleVector.fromArray(DS, x, i);
                    for (int s = 0; (1 << s) < len; s++) {
                        DoubleVector partner = v.rearrange(D_PARTNER[s]);
                        v = v.add(partner).blend(partner.sub(v), D_UPPER[s]);
                    }
                    v.intoArray(x, i);
                }
                h = len;
            }
            for (; h < p; h <<= 1) {
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
