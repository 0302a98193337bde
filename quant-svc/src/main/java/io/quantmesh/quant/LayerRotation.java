package io.quantmesh.quant;

import io.quantmesh.core.linalg.RandomizedHadamard;

/**
 * PCDVQ step 1 (DESIGN §3) for one linear layer: quantize {@code W' = T_o·W·T_iᵀ / s} under
 * {@code H' = T_i·H·T_iᵀ} instead of W under H, with T = H·D randomized Hadamard transforms on the output and input
 * sides and s the RMS of W (orthogonal maps keep the Frobenius norm, so it is also the RMS of T_o·W·T_iᵀ): the
 * rotated entries are near N(0, 1), the distribution the polar codebooks are built for. A quantized Q' maps back to
 * {@code Q = T_oᵀ·(s·Q')·T_i}, and {@code tr((W−Q)H(W−Q)ᵀ) = s²·tr((W'−Q')H'(W'−Q')ᵀ)}.
 *
 * <p>Compatible with the quantized format's polar layers (docs/FORMAT.md): the rotation computes the same bits as
 * {@code io.quantmesh.core.quantized.HadamardRotation} (tested), the output signs come from {@code seed} and the
 * input signs from {@code seed ^ 0x9E3779B97F4A7C15L} (store those seeds), and the stored scale is {@link #scale()}.
 *
 * @param out    T_o (size rows)
 * @param in     T_i (size cols)
 * @param scale  s
 */
public record LayerRotation(RandomizedHadamard out, RandomizedHadamard in, float scale) {
    /** Seeds of the two sides are derived from one layer seed, so a redelivered task rebuilds the same signs. */
    public static LayerRotation of(float[] w, int rows, int cols, long seed) {
        if (w.length != (long) rows * cols) {
            throw new IllegalArgumentException("W has " + w.length + " values, expected " + rows + "x" + cols);
        }
        double ss = 0;
        for (float v : w) ss += (double) v * v;
        float rms = (float) Math.sqrt(ss / w.length);
        if (!(rms > 0) || !Float.isFinite(rms)) throw new IllegalArgumentException("W has RMS " + rms);
        return new LayerRotation(RandomizedHadamard.of(rows, seed),
                RandomizedHadamard.of(cols, seed ^ 0x9E3779B97F4A7C15L), rms);
    }

    /** W' = T_o·W·T_iᵀ / s. */
    public float[] rotateWeights(float[] w) {
        float[] r = RandomizedHadamard.transformWeight(w, out.size(), in.size(), out, in);
        for (int i = 0; i < r.length; i++) r[i] /= scale;
        return r;
    }

    /** H' = T_i·H·T_iᵀ. */
    public double[] rotateHessian(double[] h) {
        return in.transformHessian(h);
    }

    /** Q = T_oᵀ·(s·Q')·T_i. */
    public float[] restoreWeights(float[] rotated) {
        float[] q = rotated.clone();
        for (int i = 0; i < q.length; i++) q[i] *= scale;
        return RandomizedHadamard.inverseTransformWeight(q, out.size(), in.size(), out, in);
    }
}
