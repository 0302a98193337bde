package io.quantmesh.core.linalg;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class RandomizedHadamardTest {
    /** tr((W-Q)·H·(W-Q)ᵀ) in double, plain loops. */
    static double proxyLoss(float[] w, float[] q, int rows, int cols, double[] h) {
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                double di = w[r * cols + i] - q[r * cols + i];
                for (int k = 0; k < cols; k++) loss += di * h[i * cols + k] * (w[r * cols + k] - q[r * cols + k]);
            }
        }
        return loss;
    }

    static float[] roundToGrid(float[] w, float step) {
        float[] q = new float[w.length];
        for (int i = 0; i < w.length; i++) q[i] = step * Math.round(w[i] / step);
        return q;
    }

    @Test
    void inverseUndoesForward() {
        SplittableRandom rng = new SplittableRandom(31);
        for (int n : new int[] {1, 6, 64, 96, 5632}) {
            RandomizedHadamard t = RandomizedHadamard.of(n, 99);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) rng.nextGaussian();
            float[] y = x.clone();
            t.forward(y, 0);
            t.inverse(y, 0);
            for (int i = 0; i < n; i++) assertEquals(x[i], y[i], 1e-5f, "n=" + n);
        }
        int rows = 48, cols = 64;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        RandomizedHadamard to = RandomizedHadamard.of(rows, 1), ti = RandomizedHadamard.of(cols, 2);
        float[] back = RandomizedHadamard.inverseTransformWeight(
                RandomizedHadamard.transformWeight(w, rows, cols, to, ti), rows, cols, to, ti);
        for (int i = 0; i < w.length; i++) assertEquals(w[i], back[i], 1e-5f);
    }

    @Test
    void signsAreSeededAndDeterministic() {
        assertArrayEquals(RandomizedHadamard.of(256, 5).signs(), RandomizedHadamard.of(256, 5).signs());
        assertFalse(java.util.Arrays.equals(RandomizedHadamard.of(256, 5).signs(), RandomizedHadamard.of(256, 6).signs()));
        for (float s : RandomizedHadamard.of(256, 5).signs()) assertEquals(1f, Math.abs(s));
    }

    @Test
    void proxyLossIsInvariantUnderTheBothSidesTransform() {
        int rows = 32, cols = 48; // 48 = 3 blocks of 16 on the input side
        SplittableRandom rng = new SplittableRandom(32);
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
        double[] h = CholeskyTest.randomSpd(cols, 33);
        RandomizedHadamard to = RandomizedHadamard.of(rows, 7), ti = RandomizedHadamard.of(cols, 8);
        float[] wt = RandomizedHadamard.transformWeight(w, rows, cols, to, ti);
        double[] ht = ti.transformHessian(h);

        // (a) any Q maps to Q' = T_o·Q·T_iᵀ with the same loss
        float[] q = roundToGrid(w, 0.5f);
        float[] qt = RandomizedHadamard.transformWeight(q, rows, cols, to, ti);
        double loss = proxyLoss(w, q, rows, cols, h);
        assertEquals(loss, proxyLoss(wt, qt, rows, cols, ht), 1e-5 * loss);

        // (b) what makes PCDVQ legal: quantizing in the rotated space and rotating back costs exactly the
        // rotated-space loss in the original space.
        float[] qPrime = roundToGrid(wt, 0.5f);
        float[] qBack = RandomizedHadamard.inverseTransformWeight(qPrime, rows, cols, to, ti);
        double lossRotated = proxyLoss(wt, qPrime, rows, cols, ht);
        assertEquals(lossRotated, proxyLoss(w, qBack, rows, cols, h), 1e-5 * lossRotated);

        for (int i = 0; i < cols; i++) {
            for (int j = 0; j < cols; j++) assertEquals(ht[i * cols + j], ht[j * cols + i], "H' symmetric");
        }
    }

    @Test
    void spreadsAnOutlierOverTheWholeRow() {
        // Incoherence: one huge entry becomes ±|x|/√n everywhere, so max/rms drops from √n·… to 1.
        int rows = 64, cols = 256;
        float[] w = new float[rows * cols];
        SplittableRandom rng = new SplittableRandom(34);
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.01 * rng.nextGaussian());
        w[17 * cols + 100] = 50f;
        float[] wt = RandomizedHadamard.transformWeight(w, rows, cols,
                RandomizedHadamard.of(rows, 3), RandomizedHadamard.of(cols, 4));
        assertTrue(maxOverRms(w) > 100, "outlier dominates before");
        assertTrue(maxOverRms(wt) < 6, "near-Gaussian after: max/rms = " + maxOverRms(wt));
    }

    private static double maxOverRms(float[] a) {
        double max = 0, ss = 0;
        for (float v : a) {
            max = Math.max(max, Math.abs(v));
            ss += v * v;
        }
        return max / Math.sqrt(ss / a.length);
    }

    @Test
    void equalsTheQuantizedFormatsReferenceBitForBit() {
        // docs/FORMAT.md defines stored polar layers against core.quantized.HadamardRotation (plain Java); the
        // encoder's Vector API rotation must produce the same bits, both ways, for any sizes and seeds.
        SplittableRandom rng = new SplittableRandom(35);
        for (int[] shape : new int[][] {{64, 96}, {48, 5632 / 11}, {7, 12}}) {
            int rows = shape[0], cols = shape[1];
            float[] w = new float[rows * cols];
            for (int i = 0; i < w.length; i++) w[i] = (float) rng.nextGaussian();
            long so = rng.nextLong(), si = rng.nextLong();
            RandomizedHadamard to = RandomizedHadamard.of(rows, so), ti = RandomizedHadamard.of(cols, si);
            boolean[] no = io.quantmesh.core.quantized.HadamardRotation.negativeSigns(rows, so);
            boolean[] ni = io.quantmesh.core.quantized.HadamardRotation.negativeSigns(cols, si);
            assertArrayEquals(io.quantmesh.core.quantized.HadamardRotation.rotate(w, rows, cols, no, ni),
                    RandomizedHadamard.transformWeight(w, rows, cols, to, ti), rows + "x" + cols);
            assertArrayEquals(io.quantmesh.core.quantized.HadamardRotation.unrotate(w, rows, cols, no, ni),
                    RandomizedHadamard.inverseTransformWeight(w, rows, cols, to, ti), rows + "x" + cols);
        }
    }
}
