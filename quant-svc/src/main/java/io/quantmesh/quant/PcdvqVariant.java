package io.quantmesh.quant;

import io.quantmesh.core.codec.PolarCodec;
import java.util.SplittableRandom;

/**
 * PCDVQ with one design choice changed at a time, for diagnosis only (docs/PCDVQ.md; never a registered recipe):
 * the rotation (the spec's block-randomized Hadamard, or a dense random orthogonal matrix that Gaussianises every
 * dimension fully, including 172 = 4·43 whose Hadamard block is only 4), the scale (the spec's one RMS per layer, or
 * one RMS per output row, before or after the output rotation, as INT-g128's per-row range has), a multiplier α on
 * the scale, GPTQ feedback on/off and act-order on/off. With {@link Options#spec()} it computes exactly
 * {@link PcdvqQuantizer}'s Q (tested), so every difference in the diagnosis is the one changed choice.
 */
public final class PcdvqVariant {
    public enum Rotation { HADAMARD, DENSE_ORTHOGONAL }

    /** NONE: the spec. ROTATED: RMS of each row of the rotated W. ORIGINAL: RMS of each row of W, before rotating. */
    public enum RowScale { NONE, ROTATED, ORIGINAL }

    public record Options(Rotation rotation, RowScale rowScale, double alpha, boolean gptq, boolean actOrder) {
        public static Options spec() {
            return new Options(Rotation.HADAMARD, RowScale.NONE, 1.0, true, true);
        }

        public Options with(Rotation r) {
            return new Options(r, rowScale, alpha, gptq, actOrder);
        }

        public Options with(RowScale s) {
            return new Options(rotation, s, alpha, gptq, actOrder);
        }

        public Options withAlpha(double a) {
            return new Options(rotation, rowScale, a, gptq, actOrder);
        }

        public Options withGptq(boolean on) {
            return new Options(rotation, rowScale, alpha, on, actOrder);
        }

        public Options withActOrder(boolean on) {
            return new Options(rotation, rowScale, alpha, gptq, on);
        }
    }

    /**
     * @param dequantized   Q in the original space
     * @param codes         the polar codes of the rotated, scaled W (processing order)
     * @param permutation   act-order permutation of the rotated columns
     * @param rowFactors    the per-row factor the rotated Q' was multiplied by before un-rotating (ROTATED), or that
     *                      Q was multiplied by after (ORIGINAL); all α for NONE
     * @param presentedRms  RMS of the vectors the coder was given (after GPTQ's error feedback): 1 means the coder
     *                      saw the N(0, 1) entries its codebook was built for
     */
    public record Result(float[] dequantized, VectorCodes codes, int[] permutation, float[] rowFactors,
            double presentedRms) {}

    private PcdvqVariant() {}

    public static Result quantize(float[] w, int rows, int cols, double[] h, long seed, PolarCodec codec,
            Options o) {
        float[] rowPre = new float[rows];                      // ORIGINAL: W = diag(rowPre)·W_n
        java.util.Arrays.fill(rowPre, 1f);
        float[] src = w;
        if (o.rowScale() == RowScale.ORIGINAL) {
            src = w.clone();
            double total = rms(w, 0, w.length);
            for (int r = 0; r < rows; r++) {
                double rr = rms(w, r * cols, cols);
                rowPre[r] = (float) (rr > 0 ? rr / total : 1);
                for (int j = 0; j < cols; j++) src[r * cols + j] /= rowPre[r];
            }
        }
        Rotator rot = o.rotation() == Rotation.HADAMARD ? hadamard(LayerRotation.of(src, rows, cols, seed))
                : dense(src, rows, cols, seed);
        float[] wr = rot.weights(src);
        float[] f = new float[rows];
        for (int r = 0; r < rows; r++) {
            double rr = o.rowScale() == RowScale.ROTATED ? rms(wr, r * cols, cols) : 1;
            f[r] = (float) (o.alpha() * (rr > 0 ? rr : 1));
            if (f[r] != 1f) for (int j = 0; j < cols; j++) wr[r * cols + j] /= f[r];
        }
        Recording coder = new Recording(new PolarVectorCoder(codec));
        // one thread: the presented-RMS sums then run in a fixed order (bit-identical reruns); the layers are small
        GptqLoop loop = new GptqLoop(GptqLoop.Options.defaults().withActOrder(o.actOrder()).withProxyLoss(false)
                .withThreads(1));
        double[] hr = rot.hessian(h);
        VectorColumnQuantizer cq = new VectorColumnQuantizer(coder);
        GptqResult<VectorCodes> res = o.gptq() ? loop.quantize(wr, rows, cols, hr, cq)
                : loop.roundToNearest(wr, rows, cols, hr, cq);
        float[] qr = res.dequantized().clone();
        for (int r = 0; r < rows; r++) {
            if (f[r] != 1f) for (int j = 0; j < cols; j++) qr[r * cols + j] *= f[r];
        }
        float[] q = rot.restore(qr);
        for (int r = 0; r < rows; r++) {
            if (rowPre[r] != 1f) for (int j = 0; j < cols; j++) q[r * cols + j] *= rowPre[r];
        }
        float[] factors = o.rowScale() == RowScale.ORIGINAL ? rowPre : f;
        // each column's vectors are coded once; zero padding (rows not a multiple of k) adds nothing to the sum
        return new Result(q, res.codes(), res.permutation(), factors, Math.sqrt(coder.sumSquares / ((double) rows * cols)));
    }

    /** W' (≈ unit RMS entries) as the variant's rotation makes it, for distribution statistics. */
    public static float[] rotate(float[] w, int rows, int cols, long seed, Rotation rotation) {
        return (rotation == Rotation.HADAMARD ? hadamard(LayerRotation.of(w, rows, cols, seed))
                : dense(w, rows, cols, seed)).weights(w);
    }

    private static double rms(float[] a, int off, int n) {
        double s = 0;
        for (int i = off; i < off + n; i++) s += (double) a[i] * a[i];
        return Math.sqrt(s / n);
    }

    /** W → W' (≈ unit RMS), H → H', Q' → Q. */
    private interface Rotator {
        float[] weights(float[] w);

        double[] hessian(double[] h);

        float[] restore(float[] q);
    }

    private static Rotator hadamard(LayerRotation r) {
        return new Rotator() {
            public float[] weights(float[] w) {
                return r.rotateWeights(w);
            }

            public double[] hessian(double[] h) {
                return r.rotateHessian(h);
            }

            public float[] restore(float[] q) {
                return r.restoreWeights(q);
            }
        };
    }

    /** W' = A_o·W·A_iᵀ / s with seeded Haar-like orthogonal A (Gram-Schmidt of a Gaussian matrix), in double. */
    private static Rotator dense(float[] w, int rows, int cols, long seed) {
        double[] ao = orthogonal(rows, seed), ai = orthogonal(cols, seed ^ 0x9E3779B97F4A7C15L);
        double s = rms(w, 0, w.length);
        return new Rotator() {
            public float[] weights(float[] x) {
                double[] m = product(ao, rows, rows, false, toDouble(x), cols, false);   // A_o·W
                m = product(m, rows, cols, false, ai, cols, true);                     // ·A_iᵀ
                float[] out = new float[m.length];
                for (int i = 0; i < m.length; i++) out[i] = (float) (m[i] / s);
                return out;
            }

            public double[] hessian(double[] h) {
                double[] m = product(ai, cols, cols, false, h, cols, false);
                return product(m, cols, cols, false, ai, cols, true);
            }

            public float[] restore(float[] q) {
                double[] m = product(ao, rows, rows, true, toDouble(q), cols, false);  // A_oᵀ·Q'
                m = product(m, rows, cols, false, ai, cols, false);                    // ·A_i
                float[] out = new float[m.length];
                for (int i = 0; i < m.length; i++) out[i] = (float) (m[i] * s);
                return out;
            }
        };
    }

    private static double[] toDouble(float[] a) {
        double[] d = new double[a.length];
        for (int i = 0; i < a.length; i++) d[i] = a[i];
        return d;
    }

    /** (n×k, or its transpose if ta) · (k×m, or the transpose of an m×k matrix if tb); plain loops (n ≤ a few 100). */
    private static double[] product(double[] a, int n, int k, boolean ta, double[] b, int m, boolean tb) {
        double[] c = new double[n * m];
        for (int i = 0; i < n; i++) {
            for (int j = 0; j < m; j++) {
                double s = 0;
                for (int t = 0; t < k; t++) s += (ta ? a[t * n + i] : a[i * k + t]) * (tb ? b[j * k + t] : b[t * m + j]);
                c[i * m + j] = s;
            }
        }
        return c;
    }

    static double[] orthogonal(int n, long seed) {
        SplittableRandom rng = new SplittableRandom(seed);
        double[] a = new double[n * n];
        for (int i = 0; i < a.length; i++) a[i] = rng.nextGaussian();
        for (int i = 0; i < n; i++) {                          // modified Gram-Schmidt on the rows, twice for accuracy
            for (int pass = 0; pass < 2; pass++) {
                for (int p = 0; p < i; p++) {
                    double d = 0;
                    for (int t = 0; t < n; t++) d += a[i * n + t] * a[p * n + t];
                    for (int t = 0; t < n; t++) a[i * n + t] -= d * a[p * n + t];
                }
            }
            double norm = 0;
            for (int t = 0; t < n; t++) norm += a[i * n + t] * a[i * n + t];
            norm = Math.sqrt(norm);
            for (int t = 0; t < n; t++) a[i * n + t] /= norm;
        }
        return a;
    }

    /** Counts what the loop presents to the coder (single-threaded loop, so plain fields suffice). */
    private static final class Recording implements VectorCoder {
        private final VectorCoder inner;
        double sumSquares;

        Recording(VectorCoder inner) {
            this.inner = inner;
        }

        public int dimension() {
            return inner.dimension();
        }

        public int encode(float[] x, int off) {
            for (int i = 0; i < inner.dimension(); i++) sumSquares += (double) x[off + i] * x[off + i];
            return inner.encode(x, off);
        }

        public void decode(int code, float[] out, int off) {
            inner.decode(code, out, off);
        }
    }
}
