package io.quantmesh.quant;

import io.quantmesh.core.linalg.Cholesky;
import io.quantmesh.core.linalg.NotPositiveDefiniteException;
import io.quantmesh.core.linalg.Parallel;
import java.util.Arrays;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * The Hessian side of GPTQ (DESIGN §3), computed once per input space and reusable by every matrix that reads
 * the same inputs (q/k/v, gate/up) and by repeated runs (VPTQ's residual pass):
 * <ol>
 *   <li>validate: square, finite, symmetric (to 1e-3 relative; the mean of both triangles is used), no negative
 *       diagonal;</li>
 *   <li>dead columns (H_jj = 0, the input never fired): H_jj ← 1, and the loop zeroes W[:, j];</li>
 *   <li>act-order (optional): process columns by descending diag H (ties in index order, so the permutation is
 *       deterministic); H is permuted on both sides;</li>
 *   <li>damping: H_jj += λ·mean(diag H);</li>
 *   <li>U = upper Cholesky factor of H⁻¹ ({@link Cholesky#upperFactorOfInverse}), kept in float for the
 *       float32 weight updates.</li>
 * </ol>
 *
 * @param permutation position → original column (identity without act-order)
 * @param dead        original column → dead
 * @param u           U (n×n, row-major, upper) in processing order
 */
public record PreparedHessian(int n, int[] permutation, boolean[] dead, float[] u, double dampening) {
    /** λ = 0.01 of mean(diag H), GPTQ's default. */
    public static final double DEFAULT_DAMPENING = 0.01;

    public static PreparedHessian of(double[] h, int n, double dampening, boolean actOrder, Parallel par) {
        if (n < 1) throw new IllegalArgumentException("Hessian must have at least one column, got n=" + n);
        if (h.length != (long) n * n) {
            throw new IllegalArgumentException("Hessian has " + h.length + " values, expected " + n + "x" + n);
        }
        if (!(dampening >= 0) || Double.isInfinite(dampening)) {
            throw new IllegalArgumentException("dampening must be a finite value >= 0, got " + dampening);
        }
        double[] s = symmetrised(h, n);
        boolean[] dead = new boolean[n];
        for (int j = 0; j < n; j++) {
            if (s[j * n + j] == 0) {
                dead[j] = true;
                s[j * n + j] = 1;
            }
        }
        int[] perm = actOrder
                ? IntStream.range(0, n).boxed()
                        .sorted(Comparator.comparingDouble((Integer j) -> -s[j * n + j]).thenComparingInt(j -> j))
                        .mapToInt(Integer::intValue).toArray()
                : IntStream.range(0, n).toArray();
        double[] hp = new double[n * n];
        double meanDiag = 0;
        for (int j = 0; j < n; j++) meanDiag += s[j * n + j];
        meanDiag /= n;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) hp[a * n + b] = s[perm[a] * n + perm[b]];
            hp[a * n + a] += dampening * meanDiag;
        }
        double[] u;
        try {
            u = Cholesky.upperFactorOfInverse(hp, n, par);
        } catch (NotPositiveDefiniteException e) {
            // the factorisation eliminates from the last column backwards, so this is where it broke down
            throw new IllegalArgumentException("Hessian is not positive definite after damping "
                    + dampening + "·mean(diag H): the Cholesky factorisation broke down at input column "
                    + perm[e.pivot()] + " (pivot " + e.value() + "; is H = 2/n·XᵀX of real activations?)", e);
        }
        float[] uf = new float[n * n];
        for (int i = 0; i < uf.length; i++) uf[i] = (float) u[i];
        return new PreparedHessian(n, perm, dead, uf, dampening);
    }

    /** (H + Hᵀ)/2, after checking that H is finite, nearly symmetric and has no negative diagonal. */
    private static double[] symmetrised(double[] h, int n) {
        for (int i = 0; i < n; i++) {
            double d = h[i * n + i];
            if (!Double.isFinite(d)) throw new IllegalArgumentException("Hessian H[" + i + "][" + i + "] is " + d);
            if (d < 0) {
                throw new IllegalArgumentException("Hessian diagonal H[" + i + "][" + i + "] = " + d
                        + " < 0: not positive semidefinite");
            }
        }
        double[] s = new double[n * n];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j <= i; j++) {
                double a = h[i * n + j], b = h[j * n + i];
                if (!Double.isFinite(a) || !Double.isFinite(b)) {
                    throw new IllegalArgumentException("Hessian entry (" + i + "," + j + ") is not finite: "
                            + (Double.isFinite(a) ? b : a));
                }
                double tol = 1e-3 * Math.sqrt(h[i * n + i] * h[j * n + j]) + 1e-30;
                if (Math.abs(a - b) > tol) {
                    throw new IllegalArgumentException("Hessian is not symmetric: H[" + i + "][" + j + "] = " + a
                            + " but H[" + j + "][" + i + "] = " + b);
                }
                s[i * n + j] = s[j * n + i] = 0.5 * (a + b);
            }
        }
        return s;
    }

    /** Diagonal U_jj in processing order (U's diagonal is what rescales each column's error). */
    public float diagonal(int position) {
        return u[position * n + position];
    }

    @Override
    public String toString() {
        return "PreparedHessian[n=" + n + ", dead=" + IntStream.range(0, n).filter(j -> dead[j]).count()
                + ", actOrder=" + !Arrays.equals(permutation, IntStream.range(0, n).toArray()) + "]";
    }
}
