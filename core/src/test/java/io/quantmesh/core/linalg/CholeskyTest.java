package io.quantmesh.core.linalg;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.parallel.Parallel;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class CholeskyTest {
    /** A = XᵀX/s + eps·I with correlated columns: SPD, moderately conditioned. */
    static double[] randomSpd(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        int s = 2 * n;
        double[] x = new double[s * n];
        for (int i = 0; i < s; i++) {
            double common = rng.nextGaussian();
            for (int j = 0; j < n; j++) x[i * n + j] = rng.nextGaussian() + 0.7 * common;
        }
        double[] a = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double d = 0;
                for (int r = 0; r < s; r++) d += x[r * n + i] * x[r * n + j];
                a[i * n + j] = a[j * n + i] = d / s + (i == j ? 1e-3 : 0);
            }
        }
        return a;
    }

    static double[] multiply(double[] a, double[] b, int n) {
        double[] c = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < n; k++) {
                double aik = a[i * n + k];
                for (int j = 0; j < n; j++) c[i * n + j] += aik * b[k * n + j];
            }
        }
        return c;
    }

    static double[] transpose(double[] a, int n) {
        return DoubleMatrix.of(a, n, n).transposed();
    }

    static void assertClose(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length);
        double worst = 0;
        for (int i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(expected[i] - actual[i]));
        assertTrue(worst <= tol, what + ": max deviation " + worst + " > " + tol);
    }

    /** Textbook unblocked Cholesky–Banachiewicz: the reference twin of the blocked factorisation. */
    static double[] naiveLower(double[] a, int n) {
        double[] l = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double s = a[i * n + j];
                for (int k = 0; k < j; k++) s -= l[i * n + k] * l[j * n + k];
                l[i * n + j] = i == j ? Math.sqrt(s) : s / l[j * n + j];
            }
        }
        return l;
    }

    @Test
    void blockedLowerMatchesTextbookAndReconstructs() {
        int n = 203; // several 64-blocks and a ragged last one
        double[] a = randomSpd(n, 7);
        double[] l = Cholesky.lower(a, n, Parallel.common());
        assertClose(naiveLower(a, n), l, 1e-10, "blocked vs textbook L");
        assertClose(a, multiply(l, transpose(l, n), n), 1e-10, "L·Lᵀ");
        for (int i = 0; i < n; i++) {
            for (int j = i + 1; j < n; j++) assertEquals(0.0, l[i * n + j], "upper triangle of L is zero");
        }
        double[] u = Cholesky.upper(a, n);
        assertClose(a, multiply(transpose(u, n), u, n), 1e-10, "Uᵀ·U");
    }

    @Test
    void resultIsBitIdenticalForEveryThreadCount() {
        int n = 300;
        double[] a = randomSpd(n, 8);
        double[] one = Cholesky.lower(a, n, Parallel.ofThreads(1));
        double[] u1 = Cholesky.upperFactorOfInverse(a, n, Parallel.ofThreads(1));
        for (int threads : new int[] {2, 3, 5}) {
            try (Parallel par = Parallel.ofThreads(threads)) {
                assertArrayEquals(one, Cholesky.lower(a, n, par), threads + " threads");
                assertArrayEquals(u1, Cholesky.upperFactorOfInverse(a, n, par), threads + " threads");
            }
        }
    }

    @Test
    void reportsTheFailingPivot() {
        double[] a = {
            4, 0, 0, 0,
            0, 9, 0, 0,
            0, 0, -1, 0,
            0, 0, 0, 1};
        var e = assertThrows(NotPositiveDefiniteException.class, () -> Cholesky.lower(a, 4));
        assertEquals(2, e.pivot());
        assertEquals(-1.0, e.value());
        assertTrue(e.getMessage().contains("pivot 2"), e.getMessage());

        double[] singular = {1, 1, 1, 1}; // rank one: the second pivot is exactly 0
        assertEquals(1, assertThrows(NotPositiveDefiniteException.class, () -> Cholesky.lower(singular, 2)).pivot());

        double[] nan = randomSpd(70, 9);
        nan[65 * 70 + 3] = Double.NaN;
        var en = assertThrows(NotPositiveDefiniteException.class, () -> Cholesky.lower(nan, 70));
        assertEquals(65, en.pivot());
        assertTrue(Double.isNaN(en.value()));
        assertThrows(IllegalArgumentException.class, () -> Cholesky.lower(new double[5], 2));
    }

    @Test
    void inverseTimesMatrixIsIdentity() {
        int n = 150;
        double[] a = randomSpd(n, 10);
        double[] eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        assertClose(eye, multiply(a, Cholesky.inverse(a, n), n), 1e-8, "A·A⁻¹");
    }

    @Test
    void upperFactorOfInverseAgreesWithTheReferenceChain() {
        // Reference GPTQ: chol(H) → H⁻¹ → upper chol(H⁻¹). The direct route must give the same unique factor.
        int n = 190;
        double[] h = randomSpd(n, 11);
        double[] direct = Cholesky.upperFactorOfInverse(h, n);
        double[] reference = Cholesky.upper(Cholesky.inverse(h, n), n);
        double scale = 0;
        for (double v : reference) scale = Math.max(scale, Math.abs(v));
        assertClose(reference, direct, 1e-9 * scale, "direct vs chol(inverse)");
        for (int i = 0; i < n; i++) {
            assertTrue(direct[i * n + i] > 0, "positive diagonal");
            for (int j = 0; j < i; j++) assertEquals(0.0, direct[i * n + j], "U is upper triangular");
        }
        // Uᵀ·U·H = I
        double[] eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        assertClose(eye, multiply(multiply(transpose(direct, n), direct, n), h, n), 1e-8, "UᵀU·H");
    }

    @Test
    void upperFactorOfInverseReportsPivotAsAnIndexOfH() {
        int n = 80;
        double[] h = randomSpd(n, 12);
        for (int j = 0; j < n; j++) h[5 * n + j] = h[j * n + 5] = 0; // column 5 dead: H singular
        var e = assertThrows(NotPositiveDefiniteException.class, () -> Cholesky.upperFactorOfInverse(h, n));
        assertEquals(5, e.pivot());
    }

    @Test
    void triangularSolvesAndInverse() {
        int n = 140;
        double[] l = Cholesky.lower(randomSpd(n, 13), n);
        SplittableRandom rng = new SplittableRandom(14);
        double[] b = new double[n];
        for (int i = 0; i < n; i++) b[i] = rng.nextGaussian();
        double[] x = b.clone();
        Triangular.solveLower(l, n, x);
        double[] lx = new double[n];
        for (int i = 0; i < n; i++) for (int k = 0; k <= i; k++) lx[i] += l[i * n + k] * x[k];
        assertClose(b, lx, 1e-10, "L·x = b");
        double[] u = transpose(l, n);
        double[] y = b.clone();
        Triangular.solveUpper(u, n, y);
        double[] uy = new double[n];
        for (int i = 0; i < n; i++) for (int k = i; k < n; k++) uy[i] += u[i * n + k] * y[k];
        assertClose(b, uy, 1e-10, "U·y = b");

        double[] inv = Triangular.invertLower(l, n, Parallel.common());
        double[] eye = new double[n * n];
        for (int i = 0; i < n; i++) eye[i * n + i] = 1;
        assertClose(eye, multiply(l, inv, n), 1e-10, "L·L⁻¹");
        for (int i = 0; i < n; i++) for (int j = i + 1; j < n; j++) assertEquals(0.0, inv[i * n + j]);
    }
}
