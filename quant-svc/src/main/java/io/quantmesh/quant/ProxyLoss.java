package io.quantmesh.quant;

import io.quantmesh.core.linalg.DoubleMatrix;
import io.quantmesh.core.linalg.MatMul;
import io.quantmesh.core.parallel.Parallel;
import java.util.Arrays;

/**
 * The GPTQ proxy loss {@code tr((W−Q)·H·(W−Q)ᵀ) = Σ_r d_r·H·d_rᵀ} (d_r = row r of W−Q), in double.
 *
 * <p>Uses the symmetry of H to do half the work: with the inputs cut into chunks K, the loss is
 * {@code Σ_K [d_K·H_KK·d_K + 2·d_K·H_{K,>K}ᵀ·d_{>K}]}, each term one {@link MatMul} product per fixed
 * 64-row chunk of W; the chunk partial sums are added in order, so the value does not depend on the thread count.
 */
public final class ProxyLoss {
    private static final int ROWS = 64;
    private static final int CHUNK = 256;

    private ProxyLoss() {}

    public static double of(float[] w, float[] q, int rows, int cols, double[] h, Parallel par) {
        check(w, q, rows, cols, h);
        double[] partial = new double[Parallel.chunks(rows, ROWS)];
        par.forChunks(rows, ROWS, (t, r0, r1) -> partial[t] = rowChunk(w, q, cols, h, r0, r1));
        double loss = 0;
        for (double p : partial) loss += p;
        return loss;
    }

    /** Plain-Java twin: Σ_r Σ_i Σ_k d_ri·H_ik·d_rk. */
    public static double naive(float[] w, float[] q, int rows, int cols, double[] h) {
        check(w, q, rows, cols, h);
        double loss = 0;
        for (int r = 0; r < rows; r++) {
            for (int i = 0; i < cols; i++) {
                double di = (double) w[r * cols + i] - q[r * cols + i];
                for (int k = 0; k < cols; k++) loss += di * h[i * cols + k] * ((double) w[r * cols + k] - q[r * cols + k]);
            }
        }
        return loss;
    }

    private static double rowChunk(float[] w, float[] q, int cols, double[] h, int a0, int a1) {
        int m = a1 - a0;
        double[] dt = new double[cols * m];           // (W−Q)ᵀ of rows [a0, a1)
        for (int r = a0; r < a1; r++) {
            for (int i = 0; i < cols; i++) dt[i * m + r - a0] = (double) w[r * cols + i] - q[r * cols + i];
        }
        DoubleMatrix d = DoubleMatrix.of(dt, cols, m), hm = DoubleMatrix.of(h, cols, cols);
        double[] y = new double[m * CHUNK];
        double loss = 0;
        for (int k0 = 0; k0 < cols; k0 += CHUNK) {
            int k1 = Math.min(cols, k0 + CHUNK), kw = k1 - k0;
            DoubleMatrix ym = DoubleMatrix.of(y, m, kw);
            Arrays.fill(y, 0);
            MatMul.subtractAtB(ym, d.window(k0, 0, kw, m), hm.window(k0, k0, kw, kw));      // −D_K·H_KK
            loss -= dot(ym, dt, m, k0);
            if (k1 < cols) {
                Arrays.fill(y, 0);
                MatMul.subtractAtB(ym, d.window(k1, 0, cols - k1, m), hm.window(k1, k0, cols - k1, kw)); // −D_{>K}·H_{>K,K}
                loss -= 2 * dot(ym, dt, m, k0);
            }
        }
        return loss;
    }

    /** Σ_r Σ_k y[r][k] · d[r][k0 + k]. */
    private static double dot(DoubleMatrix y, double[] dt, int m, int k0) {
        double s = 0;
        for (int r = 0; r < m; r++) {
            for (int k = 0; k < y.cols(); k++) s += y.get(r, k) * dt[(k0 + k) * m + r];
        }
        return s;
    }

    private static void check(float[] w, float[] q, int rows, int cols, double[] h) {
        if (w.length != (long) rows * cols || q.length != w.length || h.length != (long) cols * cols) {
            throw new IllegalArgumentException("proxy loss needs W and Q of " + rows + "x" + cols + " and H of "
                    + cols + "x" + cols + "; got " + w.length + ", " + q.length + ", " + h.length + " values");
        }
    }
}
