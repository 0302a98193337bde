package io.quantmesh.core.linalg;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class MatMulTest {
    private static float[] randomFloats(SplittableRandom rng, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rng.nextDouble() * 2 - 1);
        return a;
    }

    private static double[] randomDoubles(SplittableRandom rng, int n) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) a[i] = rng.nextDouble() * 2 - 1;
        return a;
    }

    @Test
    void floatKernelMatchesNaiveTwinOnStridedWindows() {
        SplittableRandom rng = new SplittableRandom(1);
        // k > KC (two k-chunks), n > NC and not a multiple of any vector length, m not a multiple of 4.
        int[][] shapes = {{37, 301, 300}, {4, 32, 1}, {1, 1, 1}, {130, 17, 128}, {5, 64, 0}};
        for (int[] s : shapes) {
            int m = s[0], n = s[1], k = s[2];
            // windows inside larger arrays, offset by a row and a column, to exercise offsets and strides
            float[] c = randomFloats(rng, (m + 1) * (n + 3));
            float[] a = randomFloats(rng, (k + 1) * (m + 2));
            float[] b = randomFloats(rng, (k + 1) * (n + 5));
            FloatMatrix cw = new FloatMatrix(c, n + 4, m, n, n + 3);
            FloatMatrix aw = new FloatMatrix(a, m + 3, k, m, m + 2);
            FloatMatrix bw = new FloatMatrix(b, n + 6, k, n, n + 5);
            float[] expected = c.clone();
            MatMul.subtractAtBNaive(new FloatMatrix(expected, n + 4, m, n, n + 3), aw, bw);
            MatMul.subtractAtB(cw, aw, bw);
            for (int i = 0; i < c.length; i++) {
                assertEquals(expected[i], c[i], 2e-5f * (1 + k), "element " + i + " of " + m + "x" + n + "x" + k);
            }
        }
    }

    @Test
    void doubleKernelMatchesNaiveTwin() {
        SplittableRandom rng = new SplittableRandom(2);
        int m = 67, n = 259, k = 513;
        double[] c = randomDoubles(rng, m * n), a = randomDoubles(rng, k * m), b = randomDoubles(rng, k * n);
        double[] expected = c.clone();
        MatMul.subtractAtBNaive(DoubleMatrix.of(expected, m, n), DoubleMatrix.of(a, k, m), DoubleMatrix.of(b, k, n));
        MatMul.subtractAtB(DoubleMatrix.of(c, m, n), DoubleMatrix.of(a, k, m), DoubleMatrix.of(b, k, n));
        for (int i = 0; i < c.length; i++) assertEquals(expected[i], c[i], 1e-12 * k);
    }

    @Test
    void elementResultDoesNotDependOnHowCIsSplit() {
        // The determinism contract the parallel callers rely on: any split of C gives the same bits.
        SplittableRandom rng = new SplittableRandom(3);
        int m = 45, n = 203, k = 70;
        float[] a = randomFloats(rng, k * m), b = randomFloats(rng, k * n), c = randomFloats(rng, m * n);
        float[] whole = c.clone(), pieces = c.clone();
        MatMul.subtractAtB(FloatMatrix.of(whole, m, n), FloatMatrix.of(a, k, m), FloatMatrix.of(b, k, n));
        FloatMatrix cp = FloatMatrix.of(pieces, m, n), ap = FloatMatrix.of(a, k, m), bp = FloatMatrix.of(b, k, n);
        int[] rowCuts = {0, 3, 10, 11, 45};
        int[] colCuts = {0, 1, 50, 199, 203};
        for (int r = 0; r + 1 < rowCuts.length; r++) {
            for (int q = 0; q + 1 < colCuts.length; q++) {
                int r0 = rowCuts[r], r1 = rowCuts[r + 1], c0 = colCuts[q], c1 = colCuts[q + 1];
                MatMul.subtractAtB(cp.window(r0, c0, r1 - r0, c1 - c0), ap.window(0, r0, k, r1 - r0),
                        bp.window(0, c0, k, c1 - c0));
            }
        }
        assertArrayEquals(whole, pieces);
    }

    @Test
    void rejectsMismatchedShapesAndOverrunningWindows() {
        float[] x = new float[12];
        assertThrows(IllegalArgumentException.class, () -> MatMul.subtractAtB(FloatMatrix.of(x, 3, 4),
                FloatMatrix.of(x, 2, 3), FloatMatrix.of(x, 3, 4)));
        assertThrows(IndexOutOfBoundsException.class, () -> new FloatMatrix(x, 1, 3, 4, 4));
        assertThrows(IllegalArgumentException.class, () -> new FloatMatrix(x, 0, 3, 4, 3));
    }
}
