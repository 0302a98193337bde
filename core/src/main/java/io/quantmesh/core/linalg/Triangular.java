package io.quantmesh.core.linalg;

import io.quantmesh.core.parallel.Parallel;

/** Triangular solves and the inverse of a lower triangular matrix (row-major {@code double[n*n]}). */
public final class Triangular {
    private static final int NB = 64;
    private static final int TILE = 64;

    private Triangular() {}

    /** Solves {@code L·x = b} in place (forward substitution); only the lower triangle of L is read. */
    public static void solveLower(double[] l, int n, double[] b) {
        Cholesky.checkSquare(l, n);
        checkRhs(n, b);
        for (int i = 0; i < n; i++) {
            double s = b[i];
            for (int k = 0; k < i; k++) s -= l[i * n + k] * b[k];
            b[i] = s / l[i * n + i];
        }
    }

    /** Solves {@code U·x = b} in place (back substitution); only the upper triangle of U is read. */
    public static void solveUpper(double[] u, int n, double[] b) {
        Cholesky.checkSquare(u, n);
        checkRhs(n, b);
        for (int i = n - 1; i >= 0; i--) {
            double s = b[i];
            for (int k = i + 1; k < n; k++) s -= u[i * n + k] * b[k];
            b[i] = s / u[i * n + i];
        }
    }

    /**
     * {@code L⁻¹} of a lower triangular L with a nonzero diagonal, blocked right-looking: solve the rows of one
     * {@link #NB}-row block against the already-updated right-hand side (which starts as I), then subtract that
     * block's contribution from every row below with one {@link MatMul} call, parallel over row tiles.
     */
    public static double[] invertLower(double[] l, int n, Parallel par) {
        Cholesky.checkSquare(l, n);
        double[] x = new double[l.length];
        for (int i = 0; i < n; i++) x[i * n + i] = 1.0;
        DoubleMatrix xm = DoubleMatrix.of(x, n, n);
        for (int i0 = 0; i0 < n; i0 += NB) blockRow(l, xm, n, i0, Math.min(n, i0 + NB), par);
        return x;
    }

    /** Solves rows [i0, i1) of X, then removes their contribution from the right-hand side of every row below. */
    private static void blockRow(double[] l, DoubleMatrix xm, int n, int i0, int i1, Parallel par) {
        double[] x = xm.data();
        int nb = i1 - i0, below = n - i1;
        // X[a, 0..a] = (R[a, 0..a] - Σ_{i0<=q<a} L[a,q]·X[q, 0..a]) / L[a,a], in independent column chunks.
        par.forChunks(i1, MatMul.NC, (t, c0, c1) -> {
            for (int a = Math.max(i0, c0); a < i1; a++) {
                int w = Math.min(a + 1, c1) - c0;
                MatMul.subtractAtB(xm.window(a, c0, 1, w), new DoubleMatrix(l, a * n + i0, a - i0, 1, 1),
                        xm.window(i0, c0, a - i0, w));
                double d = l[a * n + a];
                for (int c = c0; c < c0 + w; c++) x[a * n + c] /= d;
            }
        });
        if (below == 0) return;
        // R[i1:, 0:i1] -= L[i1:, i0:i1]·X[i0:i1, 0:i1], with L's panel packed transposed (nb × below).
        double[] pt = DoubleMatrix.of(l, n, n).window(i1, i0, below, nb).transposed();
        DoubleMatrix p = DoubleMatrix.of(pt, nb, below);
        DoubleMatrix blockRows = xm.window(i0, 0, nb, i1);
        par.forChunks(below, TILE, (t, r0, r1) -> {
            MatMul.subtractAtB(xm.window(i1 + r0, 0, r1 - r0, i1), p.window(0, r0, nb, r1 - r0), blockRows);
        });
    }

    private static void checkRhs(int n, double[] b) {
        if (b.length != n) throw new IllegalArgumentException("right-hand side has " + b.length + " values, need " + n);
    }
}
