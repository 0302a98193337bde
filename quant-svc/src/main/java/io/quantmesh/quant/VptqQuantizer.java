package io.quantmesh.quant;

import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.linalg.FloatMatrix;
import io.quantmesh.core.recipe.Recipe;
import java.util.Comparator;
import java.util.stream.IntStream;

/**
 * VPTQ-style vector quantization of one linear layer (DESIGN §3), on the GPTQ loop with the channel-independent
 * layout (a vector = v consecutive rows of one column):
 * <ol>
 *   <li>outliers: the {@code outlierFraction} of columns with the largest H_jj (the first ones in act-order) get their
 *       own k-means codebook;</li>
 *   <li>main codebook: k-means on the other columns' vectors of W, each weighted by its column's H_jj;</li>
 *   <li>pass 1: the loop with nearest-centroid coding; if a residual codebook is asked for, the loop records each
 *       vector's residual at the moment it was coded (its error-updated value minus the codeword), a second codebook
 *       is fit on those (same weights), and the loop is re-run from the original W with greedy two-stage coding
 *       (c1 nearest to x, c2 nearest to x − c1).</li>
 * </ol>
 * Codebooks come from a {@link CodebookFitter} (codebook-svc's weighted k-means). Index bits per weight:
 * Σ log2(K_i)/v over the stages of each column, averaged over columns; codebook bits are reported separately
 * (fp16 centroids) as DESIGN §4 asks.
 */
public final class VptqQuantizer {
    /**
     * @param v                 vector length
     * @param centroids         K of the main codebook
     * @param residualCentroids K of the residual codebook, 0 for a single stage
     * @param outlierFraction   fraction of columns with their own codebook, in [0, 1)
     * @param outlierCentroids  K of the outlier codebook (ignored without outlier columns)
     * @param seed              k-means seed (stage i uses seed + i)
     */
    public record Spec(int v, int centroids, int residualCentroids, double outlierFraction, int outlierCentroids,
            long seed) {
        public Spec {
            if (v < 1 || v > 64) throw new IllegalArgumentException("vector length must be 1..64, got " + v);
            if (centroids < 1 || residualCentroids < 0 || outlierCentroids < 0) {
                throw new IllegalArgumentException("bad codebook sizes " + centroids + "/" + residualCentroids + "/" + outlierCentroids);
            }
            if (!(outlierFraction >= 0 && outlierFraction < 1)) {
                throw new IllegalArgumentException("outlier fraction must be in [0, 1), got " + outlierFraction);
            }
        }

        /**
         * A {@code vq-*} recipe's spec for one layer: k-means seeds 4·index (residual +1, outliers +2), so every layer's
         * fits are seeded apart and a rerun is bit-identical; codebooks {@link #capped} to the layer.
         */
        public static Spec forLayer(Recipe recipe, int rows, int cols, long index) {
            if (!recipe.vector()) throw new IllegalArgumentException(recipe.name() + " is not a vq recipe");
            int[] s = Recipe.vectorShape(recipe.codec());
            return new Spec(s[0], s[1], s[2], s[3] / 100.0, s[1], 4 * index).capped(rows, cols);
        }

        /** Outlier columns of a layer with {@code cols} inputs: round(fraction · cols). */
        public int outlierCount(int cols) {
            return (int) Math.round(outlierFraction * cols);
        }

        /**
         * Every codebook capped at the largest power of two not above the number of vectors it is fit on (k-means
         * cannot fit more centroids than points; a power of two because the format stores ⌈log2 K⌉-bit indices, so a
         * K between powers of two would pay for index values it never uses). The index bits per weight drop with
         * the cap: a 64×64 layer (512 vectors of 8) gets K = 512, 9 bits per vector, 1.125 bits per weight.
         */
        public Spec capped(int rows, int cols) {
            long per = (rows + v - 1) / v, outliers = outlierCount(cols);
            long main = per * (cols - outliers), out = per * outliers;
            return new Spec(v, cap(centroids, main), residualCentroids == 0 ? 0 : cap(residualCentroids, main),
                    outlierFraction, outliers == 0 ? outlierCentroids : cap(outlierCentroids, out), seed);
        }

        private static int cap(int k, long vectors) {
            return vectors >= k ? k : Integer.highestOneBit((int) Math.max(1, vectors));
        }
    }

    /**
     * @param dequantized        Q, rows×cols, original column order
     * @param codes              final-pass codes (processing order; two-stage codes for main columns with a residual)
     * @param residual           the residual codebook, or null
     * @param outlier            the outlier codebook, or null
     * @param outlierColumns     by original column
     * @param indexBitsPerWeight index bits averaged over all weights
     * @param codebookBits       fp16 bits of all centroids (reported apart from the indices)
     */
    public record Result(float[] dequantized, VectorCodes codes, int[] permutation, KMeansCodec main,
            KMeansCodec residual, KMeansCodec outlier, boolean[] outlierColumns, double proxyLoss,
            double indexBitsPerWeight, long codebookBits, GptqResult.Timings lastPassTimings) {}

    private final Spec spec;
    private final CodebookFitter fitter;

    public Spec spec() {
        return spec;
    }

    public VptqQuantizer(Spec spec, CodebookFitter fitter) {
        this.spec = spec;
        this.fitter = fitter;
    }

    public Result quantize(float[] w, int rows, int cols, double[] h, GptqLoop loop) {
        if (w.length != (long) rows * cols || h.length != (long) cols * cols) {
            throw new IllegalArgumentException("W (" + w.length + ") and H (" + h.length + ") do not fit " + rows + "x" + cols);
        }
        int v = spec.v();
        float[] diag = new float[cols];
        for (int j = 0; j < cols; j++) diag[j] = (float) Math.max(0, h[j * cols + j]);
        int outliers = spec.outlierCount(cols);
        boolean[] isOutlier = new boolean[cols];
        IntStream.range(0, cols).boxed()
                .sorted(Comparator.comparingDouble((Integer j) -> -diag[j]).thenComparingInt(j -> j))
                .limit(outliers).forEach(j -> isOutlier[j] = true);

        FloatAt original = (r, c) -> w[r * cols + c];
        KMeansCodec main = fit(original, rows, cols, j -> !isOutlier[j], diag, spec.centroids(), spec.seed());
        KMeansCodec out = outliers == 0 ? null
                : fit(original, rows, cols, j -> isOutlier[j], diag, spec.outlierCentroids(), spec.seed() + 2);
        VectorCoder outCoder = out == null ? null : new KMeansVectorCoder(out);
        boolean[] outFlags = out == null ? null : isOutlier;
        VectorColumnQuantizer single = new VectorColumnQuantizer(new KMeansVectorCoder(main), outCoder, outFlags);

        KMeansCodec residual = null;
        GptqResult<VectorCodes> result;
        if (spec.residualCentroids() == 0) {
            result = loop.quantize(w, rows, cols, h, single);
        } else {
            ResidualRecorder recorder = new ResidualRecorder(single);
            new GptqLoop(loop.options().withProxyLoss(false)).quantize(w, rows, cols, h, recorder);
            int[] perm = recorder.permutation;
            float[] res = recorder.residuals;                      // [position][row]
            FloatAt byColumn = new FloatAt() {
                final int[] positionOf = inverse(perm);
                @Override
                public float at(int r, int c) {
                    return res[positionOf[c] * rows + r];
                }
            };
            residual = fit(byColumn, rows, cols, j -> !isOutlier[j], diag, spec.residualCentroids(), spec.seed() + 1);
            result = loop.quantize(w, rows, cols, h,
                    new VectorColumnQuantizer(new ResidualVectorCoder(main, residual), outCoder, outFlags));
        }
        double mainBits = main.codeBits() + (residual == null ? 0 : residual.codeBits());
        double bits = ((cols - outliers) * mainBits + outliers * (out == null ? 0 : out.codeBits())) / ((double) v * cols);
        long codebookBits = 16L * v * (main.size() + (residual == null ? 0 : residual.size()) + (out == null ? 0 : out.size()));
        return new Result(result.dequantized(), result.codes(), result.permutation(), main, residual, out, isOutlier,
                result.proxyLoss(), bits, codebookBits, result.timings());
    }

    /** Element (row, column) of a matrix, whatever its layout. */
    private interface FloatAt {
        float at(int row, int col);
    }

    /** Weighted k-means on the v-row vectors of the chosen columns (the last vector of a column zero-padded). */
    private KMeansCodec fit(FloatAt m, int rows, int cols, java.util.function.IntPredicate use, float[] diag,
            int clusters, long seed) {
        int v = spec.v(), per = (rows + v - 1) / v;
        int used = (int) IntStream.range(0, cols).filter(use).count();
        int count = Math.multiplyExact(used, per);
        if (count < clusters) {
            throw new IllegalArgumentException(count + " vectors cannot fit " + clusters + " centroids");
        }
        float[] vectors = new float[Math.multiplyExact(count, v)], weights = new float[count];
        int n = 0;
        for (int c = 0; c < cols; c++) {
            if (!use.test(c)) continue;
            for (int k = 0; k < per; k++, n++) {
                for (int i = 0; i < v && k * v + i < rows; i++) vectors[n * v + i] = m.at(k * v + i, c);
                weights[n] = diag[c];
            }
        }
        return fitter.fit(vectors, weights, count, v, clusters, seed);
    }

    private static int[] inverse(int[] perm) {
        int[] inv = new int[perm.length];
        for (int p = 0; p < perm.length; p++) inv[perm[p]] = p;
        return inv;
    }

    /** Runs a quantizer and keeps, per (position, row), the value it was given minus the value it produced. */
    private static final class ResidualRecorder implements ColumnQuantizer<VectorCodes> {
        private final ColumnQuantizer<VectorCodes> inner;
        float[] residuals;
        int[] permutation;

        ResidualRecorder(ColumnQuantizer<VectorCodes> inner) {
            this.inner = inner;
        }

        @Override
        public int rowAlignment() {
            return inner.rowAlignment();
        }

        @Override
        public int groupSize() {
            return inner.groupSize();
        }

        @Override
        public Session<VectorCodes> begin(Context context) {
            Session<VectorCodes> session = inner.begin(context);
            int rows = context.rows();
            residuals = new float[Math.multiplyExact(rows, context.columns())];
            permutation = context.permutation();
            return new Session<>() {
                @Override
                public void fitGroup(int group, int r0, int r1, FloatMatrix columns) {
                    session.fitGroup(group, r0, r1, columns);
                }

                @Override
                public void quantize(int position, int r0, int r1, float[] w, int wOff, float[] q, int qOff) {
                    session.quantize(position, r0, r1, w, wOff, q, qOff);
                    for (int r = r0; r < r1; r++) residuals[position * rows + r] = w[wOff + r - r0] - q[qOff + r - r0];
                }

                @Override
                public VectorCodes finish() {
                    return session.finish();
                }
            };
        }
    }
}
