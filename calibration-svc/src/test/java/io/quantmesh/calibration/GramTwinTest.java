package io.quantmesh.calibration;

import io.quantmesh.core.ops.KernelPool;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

/** The Vector API rank-k update against its plain twin: bit-identical for every shape and thread count. */
class GramTwinTest {
    static final KernelPool ONE = new KernelPool(1), THREE = new KernelPool(3);

    @AfterAll
    static void close() {
        ONE.close();
        THREE.close();
    }

    /** k rows of d widened floats, with a spread of magnitudes (and exact zeros) like real activations. */
    static double[] rows(int k, int d, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        double[] x = new double[k * d];
        for (int i = 0; i < x.length; i++) {
            float v = (float) (r.nextGaussian() * Math.pow(10, r.nextInt(-3, 3)));
            x[i] = r.nextInt(10) == 0 ? 0f : v;
        }
        return x;
    }

    @Test
    void vectorEqualsReferenceBitForBitAcrossShapesBlocksAndThreads() {
        int[] dims = {1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 64, 67, 172};
        int[] ks = {1, 3, 128};
        for (int d : dims) {
            for (int k : ks) {
                double[] ref = new double[d * d], one = new double[d * d], three = new double[d * d];
                for (int block = 0; block < 3; block++) { // several blocks: the accumulator carries over
                    double[] x = rows(k, d, 31L * d + 7L * k + block);
                    ReferenceGram.update(ref, x, k, d);
                    VectorGram.update(one, x, k, d, ONE);
                    VectorGram.update(three, x, k, d, THREE);
                }
                VectorGram.symmetrize(one, d);
                VectorGram.symmetrize(three, d);
                for (int i = 0; i < d * d; i++) {
                    if (Double.doubleToRawLongBits(ref[i]) != Double.doubleToRawLongBits(one[i])
                            || Double.doubleToRawLongBits(ref[i]) != Double.doubleToRawLongBits(three[i])) {
                        throw new AssertionError("d=" + d + " k=" + k + " element " + i + ": reference " + ref[i]
                                + ", vector " + one[i] + " (1 thread), " + three[i] + " (3 threads)");
                    }
                }
            }
        }
    }

    @Test
    void rankOneUpdateIsTheOuterProduct() {
        double[] x = {1, -2, 3, 0.5, 4};
        double[] h = new double[25];
        VectorGram.update(h, x, 1, 5, ONE);
        VectorGram.symmetrize(h, 5);
        for (int i = 0; i < 5; i++) for (int j = 0; j < 5; j++) assertEquals(x[i] * x[j], h[i * 5 + j]);
    }

    @Test
    void accumulatorFinishesToTwoOverNTimesTheSum() {
        HessianAccumulator acc = new HessianAccumulator(3, ONE);
        acc.add(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
        acc.add(new float[] {-1, 0, 1}, 1, 3);
        double[] h = acc.finish();
        double[] want = new double[9];
        float[][] xs = {{1, 2, 3}, {4, 5, 6}, {-1, 0, 1}};
        for (float[] x : xs) for (int i = 0; i < 3; i++) for (int j = 0; j < 3; j++) want[i * 3 + j] += x[i] * x[j];
        for (int i = 0; i < 9; i++) want[i] *= 2.0 / 3;
        assertEquals(Arrays.toString(want), Arrays.toString(h));
        assertEquals(3, acc.tokens());
        assertThrows(IllegalArgumentException.class, () -> new HessianAccumulator(4, ONE).add(new float[8], 2, 5));
        assertThrows(IllegalStateException.class, () -> acc.add(new float[3], 1, 3));
    }
}
