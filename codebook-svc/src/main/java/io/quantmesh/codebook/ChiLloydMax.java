package io.quantmesh.codebook;

/**
 * PCDVQ's magnitude codebook: the Lloyd-Max quantizer of the χ distribution with k degrees of freedom, the law of
 * ||v|| for v ~ N(0, I_k): {@code f(r) = r^(k-1) e^(-r^2/2) / (2^(k/2-1) Γ(k/2))}, computed numerically
 * ({@link LloydMax}). The support is cut at {@code sqrt(k) + 14}, beyond which the mass is below 1e-40.
 */
public final class ChiLloydMax {
    private ChiLloydMax() {}

    public static LloydMax.Result design(int k, int levels) {
        if (k < 1 || k > 64) throw new IllegalArgumentException("degrees of freedom must be 1..64, got " + k);
        double logNorm = (k / 2.0 - 1) * StrictMath.log(2) + logGammaHalf(k);
        return new LloydMax(r -> r <= 0 ? 0 : StrictMath.exp((k - 1) * StrictMath.log(r) - r * r / 2 - logNorm),
                0, Math.sqrt(k) + 14).design(levels);
    }

    /** The levels as floats, ascending (what the polar codebook stores). */
    public static float[] levels(int k, int bits) {
        if (bits < 0 || bits > 8) throw new IllegalArgumentException("magnitude bits must be 0..8, got " + bits);
        double[] l = design(k, 1 << bits).levels();
        float[] out = new float[l.length];
        for (int i = 0; i < l.length; i++) out[i] = (float) l[i];
        return out;
    }

    /** log Γ(k/2) for a positive integer k, exactly from the factorial recurrences. */
    static double logGammaHalf(int k) {
        double s = 0;
        if (k % 2 == 0) {
            for (int j = 2; j < k / 2; j++) s += StrictMath.log(j); // Γ(n) = (n-1)!
        } else {
            s = 0.5 * StrictMath.log(StrictMath.PI); // Γ(1/2) = sqrt(pi); Γ(x+1) = x Γ(x)
            for (int j = 1; 2 * j < k; j++) s += StrictMath.log(j - 0.5);
        }
        return s;
    }
}
