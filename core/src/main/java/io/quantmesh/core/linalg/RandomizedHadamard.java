package io.quantmesh.core.linalg;

import io.quantmesh.core.parallel.Parallel;
import java.util.SplittableRandom;

/**
 * The orthogonal map {@code T = H·D} of PCDVQ step 1 (DESIGN §3): D a seeded random ±1 diagonal, H the normalised
 * block Walsh-Hadamard transform of {@link Hadamard}. {@code T·x = H·(D·x)}: flipping signs before mixing is what
 * spreads every input over all outputs with random signs (entries become near-Gaussian); flipping after mixing
 * would not. {@code T⁻¹ = Tᵀ = D·H}.
 *
 * <p>For a linear layer y = W·x with Hessian H = E[x xᵀ] (in×in) this gives {@code W' = T_o·W·T_iᵀ} and
 * {@code H' = T_i·H·T_iᵀ}; because T is orthogonal, {@code tr((W-Q)H(W-Q)ᵀ) = tr((W'-Q')H'(W'-Q')ᵀ)} for
 * {@code Q' = T_o·Q·T_iᵀ}, so a quantizer can minimise the proxy loss in the rotated space. At inference
 * {@code y = T_oᵀ·Q'·(T_i·x)}.
 */
public final class RandomizedHadamard {
    /** Rows per parallel task. */
    private static final int ROWS = 64;

    private final float[] signs;
    private final long seed;

    private RandomizedHadamard(float[] signs, long seed) {
        this.signs = signs;
        this.seed = seed;
    }

    /** A transform of size n whose signs are drawn from {@code SplittableRandom(seed)}. */
    public static RandomizedHadamard of(int n, long seed) {
        Hadamard.blockSize(n);
        SplittableRandom rng = new SplittableRandom(seed);
        float[] s = new float[n];
        for (int i = 0; i < n; i++) s[i] = rng.nextBoolean() ? 1f : -1f;
        return new RandomizedHadamard(s, seed);
    }

    public int size() {
        return signs.length;
    }

    public long seed() {
        return seed;
    }

    /** The diagonal of D (±1), e.g. to store beside a quantized layer. */
    public float[] signs() {
        return signs.clone();
    }

    /** {@code x[off..off+n) ← H·D·x}. */
    public void forward(float[] x, int off) {
        for (int i = 0; i < signs.length; i++) x[off + i] *= signs[i];
        Hadamard.transform(x, off, signs.length);
    }

    /** {@code x[off..off+n) ← D·H·x}, the inverse of {@link #forward(float[], int)}. */
    public void inverse(float[] x, int off) {
        Hadamard.transform(x, off, signs.length);
        for (int i = 0; i < signs.length; i++) x[off + i] *= signs[i];
    }

    public void forward(double[] x, int off) {
        for (int i = 0; i < signs.length; i++) x[off + i] *= signs[i];
        Hadamard.transform(x, off, signs.length);
    }

    public void inverse(double[] x, int off) {
        Hadamard.transform(x, off, signs.length);
        for (int i = 0; i < signs.length; i++) x[off + i] *= signs[i];
    }

    /**
     * {@code W' = T_o·W·T_iᵀ} for W of rows×cols (rows = outputs, size of {@code out}; cols = inputs), rows
     * transformed in parallel (each row independently, so the result does not depend on the thread count).
     */
    public static float[] transformWeight(float[] w, int rows, int cols, RandomizedHadamard out, RandomizedHadamard in,
            Parallel par) {
        return bothSides(w, rows, cols, out, in, true, par);
    }

    public static float[] transformWeight(float[] w, int rows, int cols, RandomizedHadamard out, RandomizedHadamard in) {
        return transformWeight(w, rows, cols, out, in, Parallel.common());
    }

    /** {@code W = T_oᵀ·W'·T_i}, the inverse of {@link #transformWeight}. */
    public static float[] inverseTransformWeight(float[] w, int rows, int cols, RandomizedHadamard out,
            RandomizedHadamard in, Parallel par) {
        return bothSides(w, rows, cols, out, in, false, par);
    }

    public static float[] inverseTransformWeight(float[] w, int rows, int cols, RandomizedHadamard out,
            RandomizedHadamard in) {
        return inverseTransformWeight(w, rows, cols, out, in, Parallel.common());
    }

    public double[] transformHessian(double[] h) {
        return transformHessian(h, Parallel.common());
    }

    /** {@code H' = T·H·Tᵀ} for a symmetric n×n H, symmetrised so that rounding leaves it exactly symmetric. */
    public double[] transformHessian(double[] h, Parallel par) {
        int n = signs.length;
        Cholesky.checkSquare(h, n);
        double[] h0 = h.clone();
        par.forChunks(n, ROWS, (c, r0, r1) -> { for (int r = r0; r < r1; r++) forward(h0, r * n); });  // H·Tᵀ
        double[] m = DoubleMatrix.of(h0, n, n).transposed();                                            // = T·H
        par.forChunks(n, ROWS, (c, r0, r1) -> { for (int r = r0; r < r1; r++) forward(m, r * n); });   // T·H·Tᵀ
        for (int i0 = 0; i0 < n; i0 += 32) {                // (M + Mᵀ)/2 in 32×32 tiles
            for (int j0 = 0; j0 <= i0; j0 += 32) {
                for (int i = i0; i < Math.min(n, i0 + 32); i++) {
                    for (int j = j0; j < Math.min(i, j0 + 32); j++) {
                        double s = 0.5 * (m[i * n + j] + m[j * n + i]);
                        m[i * n + j] = s;
                        m[j * n + i] = s;
                    }
                }
            }
        }
        return m;
    }

    private static float[] bothSides(float[] w, int rows, int cols, RandomizedHadamard out, RandomizedHadamard in,
            boolean forward, Parallel par) {
        if (out.size() != rows || in.size() != cols || w.length != (long) rows * cols) {
            throw new IllegalArgumentException("weight " + rows + "x" + cols + " (" + w.length + " values) vs transforms "
                    + out.size() + " (out) and " + in.size() + " (in)");
        }
        float[] m = w.clone();
        par.forChunks(rows, ROWS, (chunk, r0, r1) -> {      // each row w_r ← T_i·w_r (or T_iᵀ·w_r)
            for (int r = r0; r < r1; r++) {
                if (forward) in.forward(m, r * cols); else in.inverse(m, r * cols);
            }
        });
        float[] t = FloatMatrix.of(m, rows, cols).transposed();
        par.forChunks(cols, ROWS, (chunk, c0, c1) -> {      // each column ← T_o·column (or T_oᵀ·column)
            for (int c = c0; c < c1; c++) {
                if (forward) out.forward(t, c * rows); else out.inverse(t, c * rows);
            }
        });
        return FloatMatrix.of(t, cols, rows).transposed();
    }
}
