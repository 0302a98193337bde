package io.quantmesh.core.codec;

/**
 * NormalFloat tables (QLoRA's construction, generalised to b bits): 2^(b-1) positive levels at the standard normal
 * quantiles of {@code linspace(offset, 0.5, 2^(b-1) + 1)} (the last, 0.5, dropped), 2^(b-1) - 1 negative ones at
 * {@code -quantile(linspace(offset, 0.5, 2^(b-1)))}, and 0; divided by the largest. {@code offset} is
 * {@code 1 - (1/(2*2^b) + 1/(2*(2^b - 1)))/2} (0.9677 for NF4, the published value), placing the outermost level
 * midway between the ends of the two halves' quantile spacings.
 */
public final class NormalFloat {
    private NormalFloat() {}

    public static float[] table(int bits) {
        if (bits < 2 || bits > 8) throw new IllegalArgumentException("NF bits must be 2..8, got " + bits);
        int n = 1 << bits;
        double offset = 1 - (1.0 / (2 * n) + 1.0 / (2 * (n - 1))) / 2;
        int pos = n / 2, neg = n / 2 - 1;
        double[] v = new double[n];
        int c = 0;
        for (int i = 0; i < neg; i++) v[c++] = -inverseCdf(linspace(offset, 0.5, neg + 1, i));
        v[c++] = 0;
        for (int i = pos - 1; i >= 0; i--) v[c++] = inverseCdf(linspace(offset, 0.5, pos + 1, i));
        double max = v[n - 1];
        double min = -v[0];
        float[] out = new float[n];
        // QLoRA normalises both halves by the same (largest) value; the ends then sit at -1 and 1 exactly.
        double scale = Math.max(max, min);
        for (int i = 0; i < n; i++) out[i] = (float) (v[i] / scale);
        java.util.Arrays.sort(out);
        return out;
    }

    private static double linspace(double a, double b, int count, int i) {
        return a + (b - a) * i / (count - 1);
    }

    /** Standard normal quantile (Acklam's rational approximation, relative error below 1.2e-9). */
    static double inverseCdf(double p) {
        if (!(p > 0 && p < 1)) throw new IllegalArgumentException("p must be in (0,1): " + p);
        final double[] a = {-3.969683028665376e+01, 2.209460984245205e+02, -2.759285104469687e+02,
            1.383577518672690e+02, -3.066479806614716e+01, 2.506628277459239e+00};
        final double[] b = {-5.447609879822406e+01, 1.615858368580409e+02, -1.556989798598866e+02,
            6.680131188771972e+01, -1.328068155288572e+01};
        final double[] c = {-7.784894002430293e-03, -3.223964580411365e-01, -2.400758277161838e+00,
            -2.549732539343734e+00, 4.374664141464968e+00, 2.938163982698783e+00};
        final double[] d = {7.784695709041462e-03, 3.224671290700398e-01, 2.445134137142996e+00, 3.754408661907416e+00};
        double pl = 0.02425;
        if (p < pl) {
            double q = Math.sqrt(-2 * Math.log(p));
            return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5])
                    / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
        }
        if (p > 1 - pl) return -inverseCdf(1 - p);
        double q = p - 0.5, r = q * q;
        return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q
                / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
    }
}
