package io.quantmesh.core.quantized;

import io.quantmesh.core.linalg.Hadamard;
import java.util.SplittableRandom;

/**
 * PCDVQ's randomized Hadamard rotation as the format defines it (docs/FORMAT.md §Hadamard): {@code T = H·D} with D
 * the ±1 diagonal stored as a sign vector and H the normalised Walsh-Hadamard transform over blocks of the largest
 * power of two dividing the length. A polar layer stores {@code W' = T_o·W·T_iᵀ}; the decoder computes
 * {@code W = T_oᵀ·W'·T_i}: every row of W' through {@code T_iᵀ = D_i·H} (transform, then flip signs), then every
 * column through {@code T_oᵀ}, in float32 with exactly these operations. Signs drawn from a seed are
 * {@code SplittableRandom(seed).nextBoolean() ? +1 : -1} per index, and the transform is the butterfly sequence
 * below, so this class computes the same bits as {@code io.quantmesh.core.linalg.RandomizedHadamard} (the GPTQ
 * loop's rotation, branch quant) — it is the plain-Java reference the stored layers are defined against.
 */
public final class HadamardRotation {
    private HadamardRotation() {}

    /** Block size of the transform of a length-n vector: the largest power of two dividing n. */
    public static int blockSize(int n) {
        return Hadamard.blockSize(n);
    }

    /** The sign diagonal a seed gives: +1 where {@code nextBoolean()} is true, else -1. */
    public static boolean[] negativeSigns(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        boolean[] negative = new boolean[n];
        for (int i = 0; i < n; i++) negative[i] = !rng.nextBoolean();
        return negative;
    }

    /**
     * In place: blocks of p = blockSize(n); in each, butterflies of span h = 1, 2, 4, … ({@code x[j], x[j+h] ←
     * x[j] + x[j+h], x[j] − x[j+h]}); then every element times {@code (float) (1 / sqrt(p))}. This is exactly the
     * plain-Java twin of the linalg transform, which the format is defined against.
     */
    static void transform(float[] x, int off, int n) {
        Hadamard.transformNaive(x, off, n);
    }

    /** {@code x ← T·x = H·(D·x)}. */
    static void forward(float[] x, int off, boolean[] negative) {
        for (int i = 0; i < negative.length; i++) if (negative[i]) x[off + i] = -x[off + i];
        transform(x, off, negative.length);
    }

    /** {@code x ← Tᵀ·x = D·(H·x)}, the inverse of {@link #forward}. */
    static void inverse(float[] x, int off, boolean[] negative) {
        transform(x, off, negative.length);
        for (int i = 0; i < negative.length; i++) if (negative[i]) x[off + i] = -x[off + i];
    }

    /** {@code W' = T_o·W·T_iᵀ} (rows first, then columns), for encoders. */
    public static float[] rotate(float[] w, int rows, int cols, boolean[] negativeOut, boolean[] negativeIn) {
        return bothSides(w, rows, cols, negativeOut, negativeIn, true);
    }

    /** {@code W = T_oᵀ·W'·T_i} (rows first, then columns): the decoder's exact arithmetic. */
    public static float[] unrotate(float[] w, int rows, int cols, boolean[] negativeOut, boolean[] negativeIn) {
        return bothSides(w, rows, cols, negativeOut, negativeIn, false);
    }

    private static float[] bothSides(float[] w, int rows, int cols, boolean[] negativeOut, boolean[] negativeIn,
            boolean forward) {
        if (negativeOut.length != rows || negativeIn.length != cols || w.length != (long) rows * cols) {
            throw new IllegalArgumentException("weight " + rows + "x" + cols + " vs sign vectors of " + negativeOut.length
                    + " (out) and " + negativeIn.length + " (in)");
        }
        float[] m = w.clone();
        for (int r = 0; r < rows; r++) {
            if (forward) forward(m, r * cols, negativeIn); else inverse(m, r * cols, negativeIn);
        }
        float[] col = new float[rows];
        for (int c = 0; c < cols; c++) {
            for (int r = 0; r < rows; r++) col[r] = m[r * cols + c];
            if (forward) forward(col, 0, negativeOut); else inverse(col, 0, negativeOut);
            for (int r = 0; r < rows; r++) m[r * cols + c] = col[r];
        }
        return m;
    }
}
