package io.quantmesh.core.linalg;

import io.quantmesh.core.parallel.Parallel;

/**
 * Cholesky factorisation of symmetric positive definite (SPD) matrices, dense, row-major {@code double[n*n]}.
 * Only the lower triangle of the input is read.
 *
 * <p>Blocked right-looking algorithm: factor a {@link #NB}-column diagonal block, solve the panel below it
 * (forward substitution run across all panel rows at once, on the transposed panel), then subtract
 * {@code L21·L21ᵀ} from the trailing lower triangle with {@link MatMul}, parallel over row tiles.
 */
public final class Cholesky {
    static final int NB = 64;
    private static final int TILE = 64;

    private Cholesky() {}

    /** L lower triangular with {@code A = L·Lᵀ}, on all cores. */
    public static double[] lower(double[] a, int n) {
        return lower(a, n, Parallel.common());
    }

    /**
     * L lower triangular with {@code A = L·Lᵀ}; zeros above the diagonal.
     *
     * @throws NotPositiveDefiniteException at the first pivot that is not > 0 (or NaN)
     */
    public static double[] lower(double[] a, int n, Parallel par) {
        checkSquare(a, n);
        double[] l = new double[a.length];
        for (int i = 0; i < n; i++) System.arraycopy(a, i * n, l, i * n, i + 1);
        factorInPlace(l, n, par);
        return l;
    }

    /** Overwrites the lower triangle of {@code l} with its factor and zeroes the upper triangle. */
    private static void factorInPlace(double[] l, int n, Parallel par) {
        for (int p0 = 0; p0 < n; p0 += NB) panel(l, n, p0, Math.min(n, p0 + NB), par);
        for (int i = 0; i < n; i++) java.util.Arrays.fill(l, i * n + i + 1, i * n + n, 0.0);
    }

    /** U upper triangular with {@code A = Uᵀ·U} (U = Lᵀ). */
    public static double[] upper(double[] a, int n) {
        return DoubleMatrix.of(lower(a, n), n, n).transposed();
    }

    /** {@code A⁻¹} of an SPD matrix: {@code L⁻ᵀ·L⁻¹}. */
    public static double[] inverse(double[] a, int n) {
        Parallel par = Parallel.common();
        double[] x = Triangular.invertLower(lower(a, n, par), n, par);
        double[] inv = new double[a.length];
        MatMul.subtractAtB(DoubleMatrix.of(inv, n, n), DoubleMatrix.of(x, n, n), DoubleMatrix.of(x, n, n));
        for (int i = 0; i < inv.length; i++) inv[i] = -inv[i];
        return inv;
    }

    /** {@link #upperFactorOfInverse(double[], int, Parallel)} on all cores. */
    public static double[] upperFactorOfInverse(double[] h, int n) {
        return upperFactorOfInverse(h, n, Parallel.common());
    }

    /**
     * The "UL" factor: V upper triangular with {@code H = V·Vᵀ}. With J the index reversal it is
     * {@code J·chol(J·H·J)·J}: the ordinary factorisation run from the last index backwards.
     *
     * @throws NotPositiveDefiniteException if H is not SPD; the pivot is reported as an index of H (elimination
     *     runs from n-1 down, so it is the first index, from the end, where the trailing block is not SPD)
     */
    public static double[] ulFactor(double[] h, int n, Parallel par) {
        checkSquare(h, n);
        double[] v = h.clone();
        reverseInPlace(v);
        try {
            factorInPlace(v, n, par);
        } catch (NotPositiveDefiniteException e) {
            throw new NotPositiveDefiniteException("matrix", n - 1 - e.pivot(), e.value());
        }
        reverseInPlace(v);
        return v;
    }

    /**
     * The upper triangular U with {@code H⁻¹ = Uᵀ·U} that GPTQ iterates over (row j of U holds the
     * rescaled inverse-Hessian row of column j once columns &lt; j are eliminated).
     *
     * <p>Direct method, never forming H⁻¹: with {@code H = V·Vᵀ} ({@link #ulFactor}, V upper),
     * {@code H⁻¹ = (V⁻¹)ᵀ·V⁻¹}, so U = V⁻¹. One Cholesky and one triangular inverse (2n³/3 flops) against
     * chol → inverse → chol (4n³/3) of the reference GPTQ, and it cannot fail after the first factorisation
     * succeeds, where chol(H⁻¹) of an ill-conditioned H can. U is the unique Cholesky factor of H⁻¹, so both
     * routes agree to rounding (tested).
     *
     * @throws NotPositiveDefiniteException if H is not SPD; the pivot is reported as an index of H
     */
    public static double[] upperFactorOfInverse(double[] h, int n, Parallel par) {
        double[] m = ulFactor(h, n, par);
        reverseInPlace(m);                              // J·V·J: lower triangular
        double[] u = Triangular.invertLower(m, n, par);
        reverseInPlace(u);                              // V⁻¹ = J·(J·V·J)⁻¹·J
        return u;
    }

    /** Factors columns [p0, p1) and applies their update to the trailing lower triangle. */
    private static void panel(double[] l, int n, int p0, int p1, Parallel par) {
        int nb = p1 - p0, m = n - p1;
        factorDiagonalBlock(l, n, p0, p1);
        if (m == 0) return;
        // P = L21ᵀ (nb × m): row k holds column p0+k of every panel row, so the solve runs across rows.
        double[] pt = DoubleMatrix.of(l, n, n).window(p1, p0, m, nb).transposed();
        DoubleMatrix p = DoubleMatrix.of(pt, nb, m);
        par.forChunks(m, MatMul.NC, (t, c0, c1) -> forwardSubstituteRows(l, n, p0, nb, p.window(0, c0, nb, c1 - c0)));
        for (int i = 0; i < m; i++) {
            for (int k = 0; k < nb; k++) l[(p1 + i) * n + p0 + k] = pt[k * m + i];
        }
        // A22 -= L21·L21ᵀ on the lower triangle; the largest (bottom) row tiles go first for balance.
        int tiles = (m + TILE - 1) / TILE;
        DoubleMatrix all = DoubleMatrix.of(l, n, n);
        par.forChunks(tiles, 1, (t, from, to) -> {
            int r0 = (tiles - 1 - t) * TILE, r1 = Math.min(m, r0 + TILE);
            MatMul.subtractAtB(all.window(p1 + r0, p1, r1 - r0, r1), p.window(0, r0, nb, r1 - r0),
                    p.window(0, 0, nb, r1));
        });
    }

    /** Unblocked factorisation of the diagonal block [p0, p1) whose trailing updates are already applied. */
    private static void factorDiagonalBlock(double[] l, int n, int p0, int p1) {
        for (int j = p0; j < p1; j++) {
            double d = l[j * n + j];
            for (int q = p0; q < j; q++) d -= l[j * n + q] * l[j * n + q];
            if (!(d > 0)) throw new NotPositiveDefiniteException("matrix", j, d);
            double ljj = Math.sqrt(d);
            l[j * n + j] = ljj;
            for (int i = j + 1; i < p1; i++) {
                double s = l[i * n + j];
                for (int q = p0; q < j; q++) s -= l[i * n + q] * l[j * n + q];
                l[i * n + j] = s / ljj;
            }
        }
    }

    /** Solves {@code L11·X = P} in place for a column window P of the transposed panel (row k = unknown k). */
    private static void forwardSubstituteRows(double[] l, int n, int p0, int nb, DoubleMatrix p) {
        for (int k = 0; k < nb; k++) {
            // row k -= Σ_{q<k} L11[k,q]·row q   (L11 row k as a k×1 column window of l)
            MatMul.subtractAtB(p.window(k, 0, 1, p.cols()), new DoubleMatrix(l, (p0 + k) * n + p0, k, 1, 1),
                    p.window(0, 0, k, p.cols()));
            double d = l[(p0 + k) * n + p0 + k];
            int o = p.offset() + k * p.stride();
            for (int c = 0; c < p.cols(); c++) p.data()[o + c] /= d;
        }
    }

    /** A ← J·A·J (element (i, j) ← (n-1-i, n-1-j)): for a row-major square matrix, reversing the array. */
    static void reverseInPlace(double[] a) {
        for (int i = 0, j = a.length - 1; i < j; i++, j--) {
            double t = a[i];
            a[i] = a[j];
            a[j] = t;
        }
    }

    static void checkSquare(double[] a, int n) {
        if (n < 0 || a.length != (long) n * n) {
            throw new IllegalArgumentException("expected a " + n + "x" + n + " matrix, got " + a.length + " values");
        }
    }
}
