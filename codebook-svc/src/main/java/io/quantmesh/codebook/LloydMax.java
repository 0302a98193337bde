package io.quantmesh.codebook;

import java.util.function.DoubleUnaryOperator;

/**
 * Lloyd-Max scalar quantizer design for a density, computed numerically: alternate thresholds at the midpoints of
 * adjacent levels and levels at the conditional means of their cells until the levels move less than 1e-13.
 *
 * <p>The integrals {@code ∫ x^j f(x) dx} (j = 0, 1, 2) are tabulated once on a uniform grid of 2^14 cells with
 * 8-point Gauss-Legendre per cell; an integral up to an arbitrary point adds Gauss-Legendre over the partial cell.
 * All arithmetic is double with StrictMath, so results are bit-identical on every JVM.
 */
public final class LloydMax {
    /** A designed quantizer: ascending levels, the thresholds between them, and its mean squared error. */
    public record Result(double[] levels, double[] thresholds, double mse, int iterations) {}

    private static final int CELLS = 1 << 14;
    private static final double[] GL_X = new double[8];
    private static final double[] GL_W = new double[8];

    static {
        // Gauss-Legendre nodes on [-1, 1]: Newton on P_8 from the Chebyshev-like initial guesses.
        int n = 8;
        for (int i = 0; i < n; i++) {
            double z = StrictMath.cos(StrictMath.PI * (i + 0.75) / (n + 0.5));
            double dp = 0;
            for (int it = 0; it < 100; it++) {
                double p0 = 1, p1 = z;
                for (int j = 2; j <= n; j++) {
                    double p2 = ((2 * j - 1) * z * p1 - (j - 1) * p0) / j;
                    p0 = p1;
                    p1 = p2;
                }
                dp = n * (z * p1 - p0) / (z * z - 1);
                double dz = p1 / dp;
                z -= dz;
                if (Math.abs(dz) < 1e-16) break;
            }
            GL_X[i] = z;
            GL_W[i] = 2 / ((1 - z * z) * dp * dp);
        }
    }

    private final DoubleUnaryOperator pdf;
    private final double lo, hi, h;
    private final double[][] cum = new double[3][CELLS + 1];

    /** @param pdf a density that is negligible outside [lo, hi] */
    public LloydMax(DoubleUnaryOperator pdf, double lo, double hi) {
        if (!(lo < hi)) throw new IllegalArgumentException("empty support [" + lo + ", " + hi + "]");
        this.pdf = pdf;
        this.lo = lo;
        this.hi = hi;
        this.h = (hi - lo) / CELLS;
        for (int c = 0; c < CELLS; c++) {
            double a = lo + c * h;
            double[] m = moments(a, a + h);
            for (int j = 0; j < 3; j++) cum[j][c + 1] = cum[j][c] + m[j];
        }
    }

    private double[] moments(double a, double b) {
        double[] m = new double[3];
        double half = (b - a) / 2, mid = (a + b) / 2;
        for (int i = 0; i < 8; i++) {
            double x = mid + half * GL_X[i];
            double w = GL_W[i] * half * pdf.applyAsDouble(x);
            m[0] += w;
            m[1] += w * x;
            m[2] += w * x * x;
        }
        return m;
    }

    /** {@code ∫_lo^t x^j f(x) dx} for j = 0, 1, 2. */
    private double[] upTo(double t) {
        if (t <= lo) return new double[3];
        if (t >= hi) return new double[] {cum[0][CELLS], cum[1][CELLS], cum[2][CELLS]};
        int c = (int) Math.min(CELLS - 1, Math.floor((t - lo) / h));
        double a = lo + c * h;
        double[] m = moments(a, t);
        for (int j = 0; j < 3; j++) m[j] += cum[j][c];
        return m;
    }

    /** The point t with {@code ∫_lo^t f = q * total} (bisection). */
    private double quantile(double q) {
        double target = q * cum[0][CELLS];
        double a = lo, b = hi;
        for (int it = 0; it < 200 && b - a > 1e-15 * (hi - lo); it++) {
            double m = (a + b) / 2;
            if (upTo(m)[0] < target) a = m;
            else b = m;
        }
        return (a + b) / 2;
    }

    /** Designs a quantizer with {@code n} levels. */
    public Result design(int n) {
        if (n < 1 || n > 1 << 12) throw new IllegalArgumentException("levels must be 1..4096, got " + n);
        double[] m = new double[n];
        for (int i = 0; i < n; i++) m[i] = quantile((i + 0.5) / n);
        double[] t = new double[n + 1];
        int it = 0;
        for (; it < 100_000; it++) {
            thresholds(m, t);
            double move = 0;
            double[] prev = upTo(t[0]);
            for (int i = 0; i < n; i++) {
                double[] next = upTo(t[i + 1]);
                double mass = next[0] - prev[0];
                if (mass > 0) {
                    double nm = (next[1] - prev[1]) / mass;
                    move = Math.max(move, Math.abs(nm - m[i]));
                    m[i] = nm;
                }
                prev = next;
            }
            if (move < 1e-13 * Math.max(1, Math.abs(hi - lo))) break;
        }
        thresholds(m, t);
        return new Result(m, java.util.Arrays.copyOfRange(t, 1, n), mse(m, t), it + 1);
    }

    private void thresholds(double[] m, double[] t) {
        t[0] = lo;
        t[m.length] = hi;
        for (int i = 1; i < m.length; i++) t[i] = (m[i - 1] + m[i]) / 2;
    }

    private double mse(double[] m, double[] t) {
        double e = 0;
        double[] prev = upTo(t[0]);
        for (int i = 0; i < m.length; i++) {
            double[] next = upTo(t[i + 1]);
            e += (next[2] - prev[2]) - 2 * m[i] * (next[1] - prev[1]) + m[i] * m[i] * (next[0] - prev[0]);
            prev = next;
        }
        return e / cum[0][CELLS];
    }

    /** The standard normal density. */
    public static double gaussianPdf(double x) {
        return StrictMath.exp(-x * x / 2) / StrictMath.sqrt(2 * StrictMath.PI);
    }

    /** Lloyd-Max for N(0, 1) (support cut at ±12, where the mass left is below 1e-32). */
    public static Result gaussian(int levels) {
        return new LloydMax(LloydMax::gaussianPdf, -12, 12).design(levels);
    }
}
