package io.quantmesh.core.linalg;

import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The one dense product the quantization loop and the factorisations need: {@code C -= Aᵀ·B}, with A of k×m,
 * B of k×n and C of m×n (all strided windows). It is the GPTQ block propagation
 * ({@code W[:, later] -= E·U[block, later]}, computed on Wᵀ), the Cholesky trailing update
 * ({@code A22 -= L21·L21ᵀ}, with L21ᵀ packed) and the triangular-inverse update.
 *
 * <p>The Vector API kernel keeps an 8×(2 vectors) tile of C in registers (16 accumulators: AVX-512 has 32) and streams k, blocked by {@link #KC}×{@link #NC}
 * so the B panel stays in L2. Every element is computed as the same sequence
 * {@code c = fma(-a[p], b[p], c)} for p ascending, in vector lanes and scalar tails alike, so the result of one
 * element never depends on how C is tiled or split across threads. {@code ...Naive} are the plain-Java twins.
 */
public final class MatMul {
    private static final VectorSpecies<Float> FS = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Double> DS = DoubleVector.SPECIES_PREFERRED;
    /** k-chunk: C tiles are reloaded once per chunk (exact, so results are unchanged). */
    static final int KC = 256;
    /** column chunk of B kept hot while all rows of C pass over it. */
    static final int NC = 256;
    /** Below this many rows of C the B panel is not reused enough to pay for packing it. */
    private static final int PACK_MIN_ROWS = 32;

    private MatMul() {}

    /** {@code C -= Aᵀ·B} in float, Vector API kernel. */
    public static void subtractAtB(FloatMatrix c, FloatMatrix a, FloatMatrix b) {
        int m = c.rows(), n = c.cols(), k = checkShapes(a.rows(), a.cols(), b.rows(), b.cols(), m, n);
        for (int k0 = 0; k0 < k; k0 += KC) {
            int k1 = Math.min(k, k0 + KC);
            for (int j0 = 0; j0 < n; j0 += NC) {
                int j1 = Math.min(n, j0 + NC);
                int i = 0;
                for (; i + 8 <= m; i += 8) floatRows8(c, a, b, i, j0, j1, k0, k1);
                for (; i < m; i++) floatRowTail(c, a, b, i, j0, j1, k0, k1);
            }
        }
    }

    /** Plain-Java twin of {@link #subtractAtB(FloatMatrix, FloatMatrix, FloatMatrix)}. */
    public static void subtractAtBNaive(FloatMatrix c, FloatMatrix a, FloatMatrix b) {
        int m = c.rows(), n = c.cols(), k = checkShapes(a.rows(), a.cols(), b.rows(), b.cols(), m, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                float s = c.get(i, j);
                for (int p = 0; p < k; p++) s -= a.get(p, i) * b.get(p, j);
                c.set(i, j, s);
            }
        }
    }

    /** {@code C -= Aᵀ·B} in double, Vector API kernel. */
    public static void subtractAtB(DoubleMatrix c, DoubleMatrix a, DoubleMatrix b) {
        int m = c.rows(), n = c.cols(), k = checkShapes(a.rows(), a.cols(), b.rows(), b.cols(), m, n);
        for (int k0 = 0; k0 < k; k0 += KC) {
            int k1 = Math.min(k, k0 + KC);
            for (int j0 = 0; j0 < n; j0 += NC) {
                int j1 = Math.min(n, j0 + NC);
                DoubleMatrix cw = c.window(0, j0, m, j1 - j0), aw = a.window(k0, 0, k1 - k0, m);
                DoubleMatrix bw = b.window(k0, j0, k1 - k0, j1 - j0);
                if (m >= PACK_MIN_ROWS) bw = packDouble(bw);
                int i = 0;
                for (; i + 8 <= m; i += 8) doubleRows8(cw, aw, bw, i, 0, j1 - j0, 0, k1 - k0);
                for (; i < m; i++) doubleRowTail(cw, aw, bw, i, 0, j1 - j0, 0, k1 - k0);
            }
        }
    }

    private static final ThreadLocal<double[]> DOUBLE_PANEL = ThreadLocal.withInitial(() -> new double[KC * NC]);

    /**
     * Copies a B panel into a contiguous per-thread buffer. The double callers (Cholesky, triangular inverse, proxy
     * loss) pass panels whose rows are a whole matrix row apart; packed, the kernel's loads stop striding across
     * pages (measured ~25% faster on a 5632-wide Cholesky update). The float callers' B is already dense.
     */
    private static DoubleMatrix packDouble(DoubleMatrix b) {
        double[] buf = DOUBLE_PANEL.get();
        for (int p = 0; p < b.rows(); p++) System.arraycopy(b.data(), b.offset() + p * b.stride(), buf, p * b.cols(), b.cols());
        return new DoubleMatrix(buf, 0, b.rows(), b.cols(), b.cols());
    }

    /** Plain-Java twin of {@link #subtractAtB(DoubleMatrix, DoubleMatrix, DoubleMatrix)}. */
    public static void subtractAtBNaive(DoubleMatrix c, DoubleMatrix a, DoubleMatrix b) {
        int m = c.rows(), n = c.cols(), k = checkShapes(a.rows(), a.cols(), b.rows(), b.cols(), m, n);
        for (int i = 0; i < m; i++) {
            for (int j = 0; j < n; j++) {
                double s = c.get(i, j);
                for (int p = 0; p < k; p++) s -= a.get(p, i) * b.get(p, j);
                c.set(i, j, s);
            }
        }
    }

    private static int checkShapes(int ak, int am, int bk, int bn, int m, int n) {
        if (am != m || bn != n || ak != bk) {
            throw new IllegalArgumentException("C(" + m + "x" + n + ") -= A(" + ak + "x" + am + ")^T * B("
                    + bk + "x" + bn + "): shapes do not match");
        }
        return ak;
    }

    // ---- float kernel --------------------------------------------------------------------------------------

    private static void floatRows8(FloatMatrix c, FloatMatrix a, FloatMatrix b, int i, int j0, int j1, int k0, int k1) {
        float[] cd = c.data(), ad = a.data(), bd = b.data();
        int cs = c.stride(), as = a.stride(), bs = b.stride(), len = FS.length();
        int r0 = c.offset() + i * cs, r1 = r0 + cs, r2 = r1 + cs, r3 = r2 + cs;
        int r4 = r3 + cs, r5 = r4 + cs, r6 = r5 + cs, r7 = r6 + cs;
        int j = j0;
        for (; j + 2 * len <= j1; j += 2 * len) {
            FloatVector c00 = FloatVector.fromArray(FS, cd, r0 + j), c01 = FloatVector.fromArray(FS, cd, r0 + j + len);
            FloatVector c10 = FloatVector.fromArray(FS, cd, r1 + j), c11 = FloatVector.fromArray(FS, cd, r1 + j + len);
            FloatVector c20 = FloatVector.fromArray(FS, cd, r2 + j), c21 = FloatVector.fromArray(FS, cd, r2 + j + len);
            FloatVector c30 = FloatVector.fromArray(FS, cd, r3 + j), c31 = FloatVector.fromArray(FS, cd, r3 + j + len);
            FloatVector c40 = FloatVector.fromArray(FS, cd, r4 + j), c41 = FloatVector.fromArray(FS, cd, r4 + j + len);
            FloatVector c50 = FloatVector.fromArray(FS, cd, r5 + j), c51 = FloatVector.fromArray(FS, cd, r5 + j + len);
            FloatVector c60 = FloatVector.fromArray(FS, cd, r6 + j), c61 = FloatVector.fromArray(FS, cd, r6 + j + len);
            FloatVector c70 = FloatVector.fromArray(FS, cd, r7 + j), c71 = FloatVector.fromArray(FS, cd, r7 + j + len);
            for (int p = k0; p < k1; p++) {
                int bo = b.offset() + p * bs + j, ao = a.offset() + p * as + i;
                FloatVector b0 = FloatVector.fromArray(FS, bd, bo), b1 = FloatVector.fromArray(FS, bd, bo + len);
                FloatVector a0 = FloatVector.broadcast(FS, -ad[ao]);
                c00 = b0.fma(a0, c00);
                c01 = b1.fma(a0, c01);
                FloatVector a1 = FloatVector.broadcast(FS, -ad[ao + 1]);
                c10 = b0.fma(a1, c10);
                c11 = b1.fma(a1, c11);
                FloatVector a2 = FloatVector.broadcast(FS, -ad[ao + 2]);
                c20 = b0.fma(a2, c20);
                c21 = b1.fma(a2, c21);
                FloatVector a3 = FloatVector.broadcast(FS, -ad[ao + 3]);
                c30 = b0.fma(a3, c30);
                c31 = b1.fma(a3, c31);
                FloatVector a4 = FloatVector.broadcast(FS, -ad[ao + 4]);
                c40 = b0.fma(a4, c40);
                c41 = b1.fma(a4, c41);
                FloatVector a5 = FloatVector.broadcast(FS, -ad[ao + 5]);
                c50 = b0.fma(a5, c50);
                c51 = b1.fma(a5, c51);
                FloatVector a6 = FloatVector.broadcast(FS, -ad[ao + 6]);
                c60 = b0.fma(a6, c60);
                c61 = b1.fma(a6, c61);
                FloatVector a7 = FloatVector.broadcast(FS, -ad[ao + 7]);
                c70 = b0.fma(a7, c70);
                c71 = b1.fma(a7, c71);
            }
            c00.intoArray(cd, r0 + j);
            c01.intoArray(cd, r0 + j + len);
            c10.intoArray(cd, r1 + j);
            c11.intoArray(cd, r1 + j + len);
            c20.intoArray(cd, r2 + j);
            c21.intoArray(cd, r2 + j + len);
            c30.intoArray(cd, r3 + j);
            c31.intoArray(cd, r3 + j + len);
            c40.intoArray(cd, r4 + j);
            c41.intoArray(cd, r4 + j + len);
            c50.intoArray(cd, r5 + j);
            c51.intoArray(cd, r5 + j + len);
            c60.intoArray(cd, r6 + j);
            c61.intoArray(cd, r6 + j + len);
            c70.intoArray(cd, r7 + j);
            c71.intoArray(cd, r7 + j + len);
        }
        for (int r = 0; r < 8; r++) floatRowTail(c, a, b, i + r, j, j1, k0, k1);
    }

    /** One row of C from column j: whole vectors, then scalars, each element with the kernel's fma sequence. */
    private static void floatRowTail(FloatMatrix c, FloatMatrix a, FloatMatrix b, int i, int j, int j1, int k0, int k1) {
        float[] cd = c.data(), ad = a.data(), bd = b.data();
        int as = a.stride(), bs = b.stride(), len = FS.length();
        int ro = c.offset() + i * c.stride();
        for (; j + len <= j1; j += len) {
            FloatVector acc = FloatVector.fromArray(FS, cd, ro + j);
            for (int p = k0; p < k1; p++) {
                acc = FloatVector.fromArray(FS, bd, b.offset() + p * bs + j)
                        .fma(FloatVector.broadcast(FS, -ad[a.offset() + p * as + i]), acc);
            }
            acc.intoArray(cd, ro + j);
        }
        for (; j < j1; j++) {
            float acc = cd[ro + j];
            for (int p = k0; p < k1; p++) acc = Math.fma(-ad[a.offset() + p * as + i], bd[b.offset() + p * bs + j], acc);
            cd[ro + j] = acc;
        }
    }

    // ---- double kernel (same shape as the float one) --------------------------------------------------------

    private static void doubleRows8(DoubleMatrix c, DoubleMatrix a, DoubleMatrix b, int i, int j0, int j1, int k0, int k1) {
        double[] cd = c.data(), ad = a.data(), bd = b.data();
        int cs = c.stride(), as = a.stride(), bs = b.stride(), len = DS.length();
        int r0 = c.offset() + i * cs, r1 = r0 + cs, r2 = r1 + cs, r3 = r2 + cs;
        int r4 = r3 + cs, r5 = r4 + cs, r6 = r5 + cs, r7 = r6 + cs;
        int j = j0;
        for (; j + 2 * len <= j1; j += 2 * len) {
            DoubleVector c00 = DoubleVector.fromArray(DS, cd, r0 + j), c01 = DoubleVector.fromArray(DS, cd, r0 + j + len);
            DoubleVector c10 = DoubleVector.fromArray(DS, cd, r1 + j), c11 = DoubleVector.fromArray(DS, cd, r1 + j + len);
            DoubleVector c20 = DoubleVector.fromArray(DS, cd, r2 + j), c21 = DoubleVector.fromArray(DS, cd, r2 + j + len);
            DoubleVector c30 = DoubleVector.fromArray(DS, cd, r3 + j), c31 = DoubleVector.fromArray(DS, cd, r3 + j + len);
            DoubleVector c40 = DoubleVector.fromArray(DS, cd, r4 + j), c41 = DoubleVector.fromArray(DS, cd, r4 + j + len);
            DoubleVector c50 = DoubleVector.fromArray(DS, cd, r5 + j), c51 = DoubleVector.fromArray(DS, cd, r5 + j + len);
            DoubleVector c60 = DoubleVector.fromArray(DS, cd, r6 + j), c61 = DoubleVector.fromArray(DS, cd, r6 + j + len);
            DoubleVector c70 = DoubleVector.fromArray(DS, cd, r7 + j), c71 = DoubleVector.fromArray(DS, cd, r7 + j + len);
            for (int p = k0; p < k1; p++) {
                int bo = b.offset() + p * bs + j, ao = a.offset() + p * as + i;
                DoubleVector b0 = DoubleVector.fromArray(DS, bd, bo), b1 = DoubleVector.fromArray(DS, bd, bo + len);
                DoubleVector a0 = DoubleVector.broadcast(DS, -ad[ao]);
                c00 = b0.fma(a0, c00);
                c01 = b1.fma(a0, c01);
                DoubleVector a1 = DoubleVector.broadcast(DS, -ad[ao + 1]);
                c10 = b0.fma(a1, c10);
                c11 = b1.fma(a1, c11);
                DoubleVector a2 = DoubleVector.broadcast(DS, -ad[ao + 2]);
                c20 = b0.fma(a2, c20);
                c21 = b1.fma(a2, c21);
                DoubleVector a3 = DoubleVector.broadcast(DS, -ad[ao + 3]);
                c30 = b0.fma(a3, c30);
                c31 = b1.fma(a3, c31);
                DoubleVector a4 = DoubleVector.broadcast(DS, -ad[ao + 4]);
                c40 = b0.fma(a4, c40);
                c41 = b1.fma(a4, c41);
                DoubleVector a5 = DoubleVector.broadcast(DS, -ad[ao + 5]);
                c50 = b0.fma(a5, c50);
                c51 = b1.fma(a5, c51);
                DoubleVector a6 = DoubleVector.broadcast(DS, -ad[ao + 6]);
                c60 = b0.fma(a6, c60);
                c61 = b1.fma(a6, c61);
                DoubleVector a7 = DoubleVector.broadcast(DS, -ad[ao + 7]);
                c70 = b0.fma(a7, c70);
                c71 = b1.fma(a7, c71);
            }
            c00.intoArray(cd, r0 + j);
            c01.intoArray(cd, r0 + j + len);
            c10.intoArray(cd, r1 + j);
            c11.intoArray(cd, r1 + j + len);
            c20.intoArray(cd, r2 + j);
            c21.intoArray(cd, r2 + j + len);
            c30.intoArray(cd, r3 + j);
            c31.intoArray(cd, r3 + j + len);
            c40.intoArray(cd, r4 + j);
            c41.intoArray(cd, r4 + j + len);
            c50.intoArray(cd, r5 + j);
            c51.intoArray(cd, r5 + j + len);
            c60.intoArray(cd, r6 + j);
            c61.intoArray(cd, r6 + j + len);
            c70.intoArray(cd, r7 + j);
            c71.intoArray(cd, r7 + j + len);
        }
        for (int r = 0; r < 8; r++) doubleRowTail(c, a, b, i + r, j, j1, k0, k1);
    }

    private static void doubleRowTail(DoubleMatrix c, DoubleMatrix a, DoubleMatrix b, int i, int j, int j1, int k0, int k1) {
        double[] cd = c.data(), ad = a.data(), bd = b.data();
        int as = a.stride(), bs = b.stride(), len = DS.length();
        int ro = c.offset() + i * c.stride();
        for (; j + len <= j1; j += len) {
            DoubleVector acc = DoubleVector.fromArray(DS, cd, ro + j);
            for (int p = k0; p < k1; p++) {
                acc = DoubleVector.fromArray(DS, bd, b.offset() + p * bs + j)
                        .fma(DoubleVector.broadcast(DS, -ad[a.offset() + p * as + i]), acc);
            }
            acc.intoArray(cd, ro + j);
        }
        for (; j < j1; j++) {
            double acc = cd[ro + j];
            for (int p = k0; p < k1; p++) acc = Math.fma(-ad[a.offset() + p * as + i], bd[b.offset() + p * bs + j], acc);
            cd[ro + j] = acc;
        }
    }
}
