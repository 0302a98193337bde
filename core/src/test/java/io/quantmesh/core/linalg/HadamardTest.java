package io.quantmesh.core.linalg;

import static org.junit.jupiter.api.Assertions.*;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HadamardTest {
    private static final int[] LENGTHS = {1, 3, 2, 8, 12, 64, 96, 2048, 5632};

    @Test
    void vectorVersionEqualsNaiveTwinBitForBit() {
        SplittableRandom rng = new SplittableRandom(21);
        for (int n : LENGTHS) {
            float[] f = new float[n + 7];
            double[] d = new double[n + 7];
            for (int i = 0; i < f.length; i++) d[i] = f[i] = (float) rng.nextGaussian();
            float[] fv = f.clone(), fn = f.clone();
            double[] dv = d.clone(), dn = d.clone();
            Hadamard.transform(fv, 5, n);
            Hadamard.transformNaive(fn, 5, n);
            Hadamard.transform(dv, 5, n);
            Hadamard.transformNaive(dn, 5, n);
            assertArrayEquals(fn, fv, "float n=" + n);
            assertArrayEquals(dn, dv, "double n=" + n);
            assertEquals(f[4], fv[4], "element before the range untouched");
            assertEquals(f[n + 5], fv[n + 5], "element after the range untouched");
        }
    }

    @Test
    void matchesTheSylvesterMatrixPerBlock() {
        // n = 24 = 3 blocks of 8: each block is multiplied by H_8/√8, H_8[i][j] = (-1)^popcount(i&j).
        int n = 24, p = 8;
        assertEquals(p, Hadamard.blockSize(n));
        SplittableRandom rng = new SplittableRandom(22);
        double[] x = new double[n];
        for (int i = 0; i < n; i++) x[i] = rng.nextGaussian();
        double[] y = x.clone();
        Hadamard.transform(y, 0, n);
        for (int b = 0; b < n; b += p) {
            for (int i = 0; i < p; i++) {
                double s = 0;
                for (int j = 0; j < p; j++) s += (Integer.bitCount(i & j) % 2 == 0 ? 1 : -1) * x[b + j];
                assertEquals(s / Math.sqrt(p), y[b + i], 1e-12);
            }
        }
    }

    @Test
    void isOrthonormalAndItsOwnInverse() {
        SplittableRandom rng = new SplittableRandom(23);
        for (int n : LENGTHS) {
            double[] x = new double[n];
            double norm = 0;
            for (int i = 0; i < n; i++) {
                x[i] = rng.nextGaussian();
                norm += x[i] * x[i];
            }
            double[] y = x.clone();
            Hadamard.transform(y, 0, n);
            double normY = 0;
            for (double v : y) normY += v * v;
            assertEquals(norm, normY, 1e-9 * norm, "norm preserved, n=" + n);
            Hadamard.transform(y, 0, n);
            for (int i = 0; i < n; i++) assertEquals(x[i], y[i], 1e-12, "H·H = I, n=" + n);
        }
        assertThrows(IllegalArgumentException.class, () -> Hadamard.blockSize(0));
    }
}
