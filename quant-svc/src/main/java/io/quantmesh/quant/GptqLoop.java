package io.quantmesh.quant;

import io.quantmesh.core.linalg.FloatMatrix;
import io.quantmesh.core.linalg.MatMul;
import io.quantmesh.core.parallel.Parallel;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The GPTQ loop shared by every quantizer (DESIGN §3), on row-major W (rows = outputs × columns = inputs).
 *
 * <p>For blocks of B columns (processing order), for each column j of the block: fit the group's parameters if
 * j starts a group; {@code q = quantize(w_j)}; {@code e = (w_j − q) / U_jj}; {@code W[:, j+1:end] −= e·U[j, j+1:end]}
 * inside the block; after the block, {@code W[:, end:] −= E·U[block, end:]} as one matrix product (lazy batch
 * update). B = 1 is the unblocked algorithm; every B gives the same result up to float rounding. (With
 * {@link PreparedHessian.Feedback#LDL} the same steps run with F and s from the LDL form instead of U, U_jj.)
 *
 * <p>Layout and parallelism: the loop works on Wᵀ (a column is contiguous) in float32; U is float32 too (computed
 * in double). Row r of W only ever receives errors of row r, so rows are cut into bands (multiples of 64 and of
 * the quantizer's row alignment) and each band runs the whole loop on its own thread — column steps and block
 * propagation alike, with no synchronisation. Each element's arithmetic is the same whatever the band cut
 * ({@link MatMul}'s contract), so outputs are bit-identical for every thread count.
 *
 * <p>Groups: a group's parameters are fit on the current values of its columns after the feedback of every
 * earlier column. When a group starts inside a block and reaches past it, the columns past the block have not
 * yet received the block's pending errors; the loop applies them to a copy first, so the fit sees exactly what
 * the unblocked algorithm would (GPTQ's reference fits on the pre-block copy there instead; the two agree when
 * groups align with blocks, e.g. g = B = 128).
 */
public final class GptqLoop {
    /**
     * @param dampening  λ in H += λ·mean(diag H)·I
     * @param blockSize  B, columns per lazy-batch block
     * @param actOrder   process columns by descending diag H
     * @param threads    threads for the Cholesky, the row bands and the loss; 0 = all cores
     * @param proxyLoss  compute tr((W−Q)H(W−Q)ᵀ) (O(rows·cols²), about as much work as the loop itself)
     * @param feedback   U = chol(H⁻¹) as in DESIGN §3, or the equivalent, cheaper LDL form (see
     *                   {@link PreparedHessian})
     */
    public record Options(double dampening, int blockSize, boolean actOrder, int threads, boolean proxyLoss,
            PreparedHessian.Feedback feedback) {
        public Options {
            if (blockSize < 1) throw new IllegalArgumentException("block size must be >= 1, got " + blockSize);
            if (threads < 0) throw new IllegalArgumentException("threads must be >= 0, got " + threads);
        }

        public static Options defaults() {
            return new Options(PreparedHessian.DEFAULT_DAMPENING, 128, false, 0, true,
                    PreparedHessian.Feedback.INVERSE_CHOLESKY);
        }

        public Options withActOrder(boolean on) {
            return new Options(dampening, blockSize, on, threads, proxyLoss, feedback);
        }

        public Options withBlockSize(int b) {
            return new Options(dampening, b, actOrder, threads, proxyLoss, feedback);
        }

        public Options withThreads(int t) {
            return new Options(dampening, blockSize, actOrder, t, proxyLoss, feedback);
        }

        public Options withProxyLoss(boolean on) {
            return new Options(dampening, blockSize, actOrder, threads, on, feedback);
        }

        public Options withFeedback(PreparedHessian.Feedback f) {
            return new Options(dampening, blockSize, actOrder, threads, proxyLoss, f);
        }

        /** The shared all-cores pool, or a dedicated one the caller closes. */
        Parallel parallel() {
            return threads == 0 ? Parallel.common() : Parallel.ofThreads(threads);
        }
    }

    /** Rows per band are a multiple of this (and of the quantizer's alignment). */
    private static final int BAND_UNIT = 64;
    /** Tile edge of the blocked transposes in and out of the loop. */
    private static final int TILE = 64;
    /** Upper bound on rows per band: keeps a block of the band (B × rows floats) and its errors in L2. */
    private static final int MAX_BAND = 512;

    private final Options options;

    public GptqLoop(Options options) {
        this.options = options;
    }

    public Options options() {
        return options;
    }

    /** GPTQ on W (rows×cols, row-major) with Hessian H (cols×cols, row-major, undamped). */
    public <C> GptqResult<C> quantize(float[] w, int rows, int cols, double[] h, ColumnQuantizer<C> quantizer) {
        long t0 = System.nanoTime();
        checkWeights(w, rows, cols);
        try (Parallel par = options.parallel()) {
            PreparedHessian prepared = PreparedHessian.of(h, cols, options.dampening(), options.actOrder(),
                    options.feedback(), par);
            long t1 = System.nanoTime();
            return quantize(w, rows, cols, prepared, h, quantizer, par, t0, t1);
        }
    }

    /**
     * GPTQ with a Hessian prepared once for several matrices that share it (its act-order and dampening apply;
     * this loop's are ignored). {@code h} is the original H for the proxy loss, or null to skip it.
     */
    public <C> GptqResult<C> quantize(float[] w, int rows, int cols, PreparedHessian prepared, double[] h,
            ColumnQuantizer<C> quantizer) {
        long t0 = System.nanoTime();
        checkWeights(w, rows, cols);
        if (prepared.n() != cols) {
            throw new IllegalArgumentException("prepared Hessian is " + prepared.n() + "x" + prepared.n()
                    + " but W has " + cols + " columns");
        }
        try (Parallel par = options.parallel()) {
            return quantize(w, rows, cols, prepared, h, quantizer, par, t0, t0);
        }
    }

    /**
     * Round-to-nearest with the same quantizer: columns in natural order, no error feedback, groups fit on W
     * itself. {@code h} (may be null) is only used for the proxy loss.
     */
    public <C> GptqResult<C> roundToNearest(float[] w, int rows, int cols, double[] h, ColumnQuantizer<C> quantizer) {
        long t0 = System.nanoTime();
        checkWeights(w, rows, cols);
        int[] identity = java.util.stream.IntStream.range(0, cols).toArray();
        float[] wt = transposed(w, rows, cols, identity, new boolean[cols]);
        float[] importance = null;
        if (h != null) {
            if (h.length != (long) cols * cols) {
                throw new IllegalArgumentException("H has " + h.length + " values, expected " + cols + "x" + cols);
            }
            importance = new float[cols];
            for (int j = 0; j < cols; j++) importance[j] = (float) h[j * cols + j];
        }
        Run<C> run = new Run<>(wt, rows, cols, null, identity, importance, quantizer, options.blockSize());
        long t1 = System.nanoTime();
        try (Parallel par = options.parallel()) {
            run.all(par);
            return finish(w, rows, cols, h, run, identity, par, t0, t1, t1);
        }
    }

    private <C> GptqResult<C> quantize(float[] w, int rows, int cols, PreparedHessian prepared, double[] h,
            ColumnQuantizer<C> quantizer, Parallel par, long t0, long tHessian) {
        if (prepared.feedback() == PreparedHessian.Feedback.LDL && quantizer.groupSize() != -1) {
            throw new IllegalArgumentException("LDL feedback equals GPTQ only for quantizers without mid-loop group "
                    + "fits; this one fits groups of " + quantizer.groupSize() + " columns: use INVERSE_CHOLESKY");
        }
        float[] wt = transposed(w, rows, cols, prepared.permutation(), prepared.dead());
        Run<C> run = new Run<>(wt, rows, cols, prepared, prepared.permutation(), prepared.importance(), quantizer,
                options.blockSize());
        long t1 = System.nanoTime();
        run.all(par);
        return finish(w, rows, cols, h, run, prepared.permutation(), par, t0, tHessian, t1);
    }

    private <C> GptqResult<C> finish(float[] w, int rows, int cols, double[] h, Run<C> run, int[] perm, Parallel par,
            long t0, long tHessian, long tLoop) {
        long t2 = System.nanoTime();
        float[] q = new float[w.length];
        for (int r0 = 0; r0 < rows; r0 += TILE) {
            for (int p0 = 0; p0 < cols; p0 += TILE) {
                for (int r = r0; r < Math.min(rows, r0 + TILE); r++) {
                    for (int p = p0; p < Math.min(cols, p0 + TILE); p++) q[r * cols + perm[p]] = run.wt[p * rows + r];
                }
            }
        }
        C codes = run.session.finish();
        long t3 = System.nanoTime();
        double loss = Double.NaN;
        if (h != null && options.proxyLoss()) loss = ProxyLoss.of(w, q, rows, cols, h, par);
        long t4 = System.nanoTime();
        var timings = new GptqResult.Timings(tHessian - t0, tLoop - tHessian, t2 - tLoop, run.columnNanos.get(),
                run.propagationNanos.get(), t4 - t3, t4 - t0);
        return new GptqResult<>(rows, cols, q, codes, perm.clone(), loss, timings);
    }

    private static void checkWeights(float[] w, int rows, int cols) {
        if (rows < 1 || cols < 1 || w.length != (long) rows * cols) {
            throw new IllegalArgumentException("W has " + w.length + " values, expected " + rows + "x" + cols);
        }
        for (int i = 0; i < w.length; i++) {
            if (!Float.isFinite(w[i])) {
                throw new IllegalArgumentException("W[" + i / cols + "][" + i % cols + "] is " + w[i]);
            }
        }
    }

    /** Wᵀ in processing order: wt[p·rows + r] = W[r][perm[p]], dead columns zeroed; TILE² blocks for the caches. */
    private static float[] transposed(float[] w, int rows, int cols, int[] perm, boolean[] dead) {
        float[] wt = new float[w.length];
        for (int p0 = 0; p0 < cols; p0 += TILE) {
            for (int r0 = 0; r0 < rows; r0 += TILE) {
                for (int p = p0; p < Math.min(cols, p0 + TILE); p++) {
                    int c = perm[p];
                    if (dead[c]) continue;
                    for (int r = r0; r < Math.min(rows, r0 + TILE); r++) wt[p * rows + r] = w[r * cols + c];
                }
            }
        }
        return wt;
    }

    /** One matrix through the loop: shared state, and the per-band algorithm. */
    private static final class Run<C> {
        final float[] wt;               // Wᵀ (cols × rows) in processing order; column j becomes Q once done
        final int rows, cols, block, group, bandRows;
        final float[] f;                // feedback matrix F (cols × cols, upper), or null for round-to-nearest
        final float[] divisor;          // s_j: e_j = (x_j − q_j) / s_j
        final float[] source;           // x: the current Wᵀ (U form) or a copy of the original (LDL form)
        final ColumnQuantizer.Session<C> session;
        final AtomicLong columnNanos = new AtomicLong(), propagationNanos = new AtomicLong();

        Run(float[] wt, int rows, int cols, PreparedHessian prepared, int[] permutation, float[] importance,
                ColumnQuantizer<C> quantizer, int block) {
            this.wt = wt;
            this.rows = rows;
            this.cols = cols;
            this.block = block;
            this.f = prepared == null ? null : prepared.f();
            this.divisor = prepared == null ? null : prepared.divisor();
            this.source = prepared != null && prepared.feedback() == PreparedHessian.Feedback.LDL ? wt.clone() : wt;
            int g = quantizer.groupSize();
            if (g == 0 || g < -1) throw new IllegalArgumentException("quantizer group size " + g);
            this.group = g == -1 ? cols : g;
            int align = quantizer.rowAlignment();
            if (align < 1) throw new IllegalArgumentException("quantizer row alignment " + align);
            int unit = BAND_UNIT / gcd(BAND_UNIT, align) * align;
            this.bandRows = Math.max(unit, MAX_BAND / unit * unit);
            this.session = quantizer.begin(new ColumnQuantizer.Context(rows, cols, permutation, importance));
        }

        void all(Parallel par) {
            par.forChunks(rows, bandRows, (b, r0, r1) -> band(r0, r1));
        }

        /** The whole loop for rows [r0, r1). */
        void band(int r0, int r1) {
            int width = r1 - r0;
            float[] e = new float[block * width];      // errors of the current block, [j - b0][r - r0]
            float[] q = new float[width];
            FloatMatrix w = new FloatMatrix(wt, r0, cols, width, rows);   // Wᵀ restricted to the band
            FloatMatrix errors = FloatMatrix.of(e, block, width);
            long propagation = 0, start = System.nanoTime();
            for (int b0 = 0; b0 < cols; b0 += block) {
                int b1 = Math.min(cols, b0 + block);
                for (int j = b0; j < b1; j++) {
                    if (j % group == 0) session.fitGroup(j / group, r0, r1, groupColumns(w, errors, j, b0, b1));
                    int off = r0 + j * rows;
                    session.quantize(j, r0, r1, wt, off, q, 0);
                    if (f == null) {
                        System.arraycopy(q, 0, wt, off, width);
                        continue;
                    }
                    float d = divisor[j];
                    int eo = (j - b0) * width;
                    for (int r = 0; r < width; r++) {
                        e[eo + r] = (source[off + r] - q[r]) / d;
                        wt[off + r] = q[r];
                    }
                    if (j + 1 < b1) {   // W[:, j+1:b1] -= e_j · F[j, j+1:b1]
                        MatMul.subtractAtB(w.window(j + 1, 0, b1 - j - 1, width),
                                new FloatMatrix(f, j * cols + j + 1, 1, b1 - j - 1, cols), errors.window(j - b0, 0, 1, width));
                    }
                }
                if (f != null && b1 < cols) {   // W[:, b1:] -= E · F[b0:b1, b1:]
                    long t = System.nanoTime();
                    MatMul.subtractAtB(w.window(b1, 0, cols - b1, width),
                            new FloatMatrix(f, b0 * cols + b1, b1 - b0, cols - b1, cols), errors.window(0, 0, b1 - b0, width));
                    propagation += System.nanoTime() - t;
                }
            }
            columnNanos.addAndGet(System.nanoTime() - start - propagation);
            propagationNanos.addAndGet(propagation);
        }

        /**
         * Current values of the group starting at j (transposed: group column × band row). Columns at or past the
         * block end still lack the errors of block columns [b0, j): those are applied to a copy.
         */
        FloatMatrix groupColumns(FloatMatrix w, FloatMatrix errors, int j, int b0, int b1) {
            int count = Math.min(group, cols - j);
            FloatMatrix current = w.window(j, 0, count, w.cols());
            if (f == null || j == b0 || j + count <= b1) return current;
            float[] copy = new float[count * w.cols()];
            FloatMatrix fixed = FloatMatrix.of(copy, count, w.cols());
            for (int c = 0; c < count; c++) {
                System.arraycopy(wt, current.offset() + c * current.stride(), copy, c * w.cols(), w.cols());
            }
            MatMul.subtractAtB(fixed.window(b1 - j, 0, j + count - b1, w.cols()),
                    new FloatMatrix(f, b0 * cols + b1, j - b0, j + count - b1, cols),
                    errors.window(0, 0, j - b0, w.cols()));
            return fixed;
        }

        private static int gcd(int a, int b) {
            return b == 0 ? a : gcd(b, a % b);
        }
    }
}
