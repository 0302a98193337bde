package io.quantmesh.quant;

import io.quantmesh.core.linalg.Cholesky;
import io.quantmesh.core.linalg.NotPositiveDefiniteException;
import io.quantmesh.core.parallel.Parallel;
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
 *   <li>the error-feedback matrix F, in float for the float32 weight updates. The loop does, per column j,
 *       {@code e_j = (x_j − q_j) / s_j} and {@code W[:, k] −= e_j·F_jk} for k &gt; j, with either
 *       <ul>
 *         <li>{@link Feedback#INVERSE_CHOLESKY} (DESIGN §3, the GPTQ paper): F = U, the upper Cholesky factor of
 *             H⁻¹, s_j = U_jj, x_j = the current (updated) column; or</li>
 *         <li>{@link Feedback#LDL} (QuIP's LDLQ, proven equal to GPTQ): with H = V·Vᵀ, V upper, F_jk = −V_jk/V_kk,
 *             s_j = 1, x_j = the ORIGINAL column. From W − Q = E·U and U = V⁻¹ follows E = (W − Q)·V, hence
 *             W'_k = W_k + Σ_{j&lt;k} (W_j − Q_j)·V_jk/V_kk. Same Q without the triangular inverse: half the
 *             Hessian work (n³/3 instead of 2n³/3). Only the value of the column being quantized is the same,
 *             though: columns further on hold different intermediate values than in the U form, so a quantizer
 *             that fits group parameters on later columns mid-loop (GPTQ's groups) would see other numbers.
 *             The loop therefore accepts LDL only for quantizers with a single group (per-channel INT, fixed
 *             codebooks: VQ, PCDVQ).</li>
 *       </ul></li>
 * </ol>
 *
 * @param permutation position → original column (identity without act-order)
 * @param dead        original column → dead
 * @param f           F (n×n, row-major, strictly upper part used) in processing order
 * @param divisor     s_j per position
 * @param importance  H_jj per position, undamped (0 for dead columns): what {@link ColumnQuantizer#begin} receives
 */
public record PreparedHessian(int n, int[] permutation, boolean[] dead, Feedback feedback, float[] f, float[] divisor,
        float[] importance, double dampening) {
    /** How the error of a column is fed back to later columns; both give the same Q up to rounding. */
    public enum Feedback {
        /** F = chol(H⁻¹) upper, e = (w'_j − q_j)/U_jj — DESIGN §3 as written. */
        INVERSE_CHOLESKY,
        /** F from the UL Cholesky factor of H, e = w_j − q_j on the original weights (QuIP's LDLQ). */
        LDL
    }

    /** λ = 0.01 of mean(diag H), GPTQ's default. */
    public static final double DEFAULT_DAMPENING = 0.01;

    public static PreparedHessian of(double[] h, int n, double dampening, boolean actOrder, Feedback feedback,
            Parallel par) {
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
        float[] importance = new float[n];
        for (int p = 0; p < n; p++) importance[p] = dead[perm[p]] ? 0f : (float) s[perm[p] * n + perm[p]];
        double[] hp = new double[n * n];
        double meanDiag = 0;
        for (int j = 0; j < n; j++) meanDiag += s[j * n + j];
        meanDiag /= n;
        for (int a = 0; a < n; a++) {
            for (int b = 0; b < n; b++) hp[a * n + b] = s[perm[a] * n + perm[b]];
            hp[a * n + a] += dampening * meanDiag;
        }
        double[] factor;
        try {
            factor = feedback == Feedback.LDL ? Cholesky.ulFactor(hp, n, par) : Cholesky.upperFactorOfInverse(hp, n, par);
        } catch (NotPositiveDefiniteException e) {
            // the factorisation eliminates from the last column backwards, so this is where it broke down
            throw new IllegalArgumentException("Hessian is not positive definite after damping "
                    + dampening + "·mean(diag H): the Cholesky factorisation broke down at input column "
                    + perm[e.pivot()] + " (pivot " + e.value() + "; is H = 2/n·XᵀX of real activations?)", e);
        }
        float[] f = new float[n * n], divisor = new float[n];
        for (int j = 0; j < n; j++) {
            if (feedback == Feedback.LDL) {
                divisor[j] = 1f;
                for (int k = j + 1; k < n; k++) f[j * n + k] = (float) (-factor[j * n + k] / factor[k * n + k]);
            } else {
                divisor[j] = (float) factor[j * n + j];
                for (int k = j; k < n; k++) f[j * n + k] = (float) factor[j * n + k];
            }
        }
        return new PreparedHessian(n, perm, dead, feedback, f, divisor, importance, dampening);
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

    @Override
    public String toString() {
        return "PreparedHessian[n=" + n + ", dead=" + IntStream.range(0, n).filter(j -> dead[j]).count()
                + ", actOrder=" + !Arrays.equals(permutation, IntStream.range(0, n).toArray()) + ", " + feedback + "]";
    }
}
