package io.quantmesh.calibration;

import io.quantmesh.core.ops.KernelPool;
import jdk.incubator.vector.DoubleVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * The Hessian hot loop: {@code H += Xᵀ X} for a block of k token rows {@code X [k × d]} (a rank-k update of the
 * float64 accumulator {@code H [d × d]}, both row-major). Only the upper triangle is accumulated, each row from the
 * vector-aligned column at or before its diagonal; {@link #symmetrize} mirrors it once at the end.
 *
 * <p>Tiles of four rows by two vectors of columns keep eight accumulators in registers for all k tokens, so each
 * load of X feeds eight FMAs. X is first packed into panels (per tile column: the k tokens' 2V values, contiguous;
 * per tile row: the k tokens' 4 values) so that the token loop walks memory sequentially instead of striding by d,
 * which for power-of-two widths would map every token's line to the same cache set. Row tiles are paired
 * first-with-last so every task gets the same share of the triangle.
 *
 * <p>Every element adds its k products in token order, and a product of two widened floats is exact in double, so
 * FMA and multiply-then-add round alike: the result equals {@link ReferenceGram} bit for bit, whatever the thread
 * count.
 */
final class VectorGram {
    private static final VectorSpecies<Double> S = DoubleVector.SPECIES_PREFERRED;
    private static final int V = S.length();
    private static final int W = 2 * V; // tile width in columns
    private static final int ROWS = 4;  // tile height in rows

    private VectorGram() {}

    /** Upper triangle of {@code h += xᵀ x}, x holding k rows of d doubles (each a widened float). */
    static void update(double[] h, double[] x, int k, int d, KernelPool pool) {
        if (h.length < (long) d * d || x.length < (long) k * d) throw new IllegalArgumentException("buffers too small");
        Panels p = new Panels(x, k, d);
        int blocks = (d + ROWS - 1) / ROWS;
        int pairs = (blocks + 1) / 2;
        long work = (long) k * d * d; // ~ twice the triangle's multiply-adds
        // below ~4M multiply-adds a hand-off to other threads costs more than it saves
        pool.forRange(pairs, work < (1 << 22) ? pairs : 1, (from, to) -> {
            for (int b = from; b < to; b++) {
                rowBlock(h, x, p, k, d, b);
                int q = blocks - 1 - b;
                if (q != b) rowBlock(h, x, p, k, d, q);
            }
        });
    }

    /** Copies the upper triangle onto the lower one. */
    static void symmetrize(double[] h, int d) {
        for (int i = 1; i < d; i++) for (int j = 0; j < i; j++) h[i * d + j] = h[j * d + i];
    }

    /** X repacked for sequential token loops: full column tiles and full row tiles only (the rest reads X). */
    private record Panels(double[] cols, double[] rows, int colTiles, int rowTiles) {
        Panels(double[] x, int k, int d) {
            this(new double[(d / W) * W * k], new double[(d / ROWS) * ROWS * k], d / W, d / ROWS);
            for (int c = 0; c < colTiles; c++) {
                for (int t = 0; t < k; t++) System.arraycopy(x, t * d + c * W, cols, (c * k + t) * W, W);
            }
            for (int r = 0; r < rowTiles; r++) {
                for (int t = 0; t < k; t++) System.arraycopy(x, t * d + r * ROWS, rows, (r * k + t) * ROWS, ROWS);
            }
        }
    }

    private static void rowBlock(double[] h, double[] x, Panels p, int k, int d, int block) {
        int i0 = block * ROWS;
        int j0 = i0 - i0 % W;
        if (block >= p.rowTiles()) {
            for (int i = i0; i < d; i++) row(h, x, k, d, i, j0);
            return;
        }
        int r0 = i0 * d, r1 = r0 + d, r2 = r1 + d, r3 = r2 + d;
        double[] cols = p.cols(), rows = p.rows();
        int ro = block * k * ROWS;
        int j = j0;
        for (; j + W <= d; j += W) {
            DoubleVector a0 = DoubleVector.fromArray(S, h, r0 + j), b0 = DoubleVector.fromArray(S, h, r0 + j + V);
            DoubleVector a1 = DoubleVector.fromArray(S, h, r1 + j), b1 = DoubleVector.fromArray(S, h, r1 + j + V);
            DoubleVector a2 = DoubleVector.fromArray(S, h, r2 + j), b2 = DoubleVector.fromArray(S, h, r2 + j + V);
            DoubleVector a3 = DoubleVector.fromArray(S, h, r3 + j), b3 = DoubleVector.fromArray(S, h, r3 + j + V);
            int co = (j / W) * k * W;
            for (int t = 0; t < k; t++) {
                int c = co + t * W, r = ro + t * ROWS;
                DoubleVector xa = DoubleVector.fromArray(S, cols, c), xb = DoubleVector.fromArray(S, cols, c + V);
                DoubleVector c0 = DoubleVector.broadcast(S, rows[r]), c1 = DoubleVector.broadcast(S, rows[r + 1]);
                DoubleVector c2 = DoubleVector.broadcast(S, rows[r + 2]), c3 = DoubleVector.broadcast(S, rows[r + 3]);
                a0 = c0.fma(xa, a0);
                b0 = c0.fma(xb, b0);
                a1 = c1.fma(xa, a1);
                b1 = c1.fma(xb, b1);
                a2 = c2.fma(xa, a2);
                b2 = c2.fma(xb, b2);
                a3 = c3.fma(xa, a3);
                b3 = c3.fma(xb, b3);
            }
            a0.intoArray(h, r0 + j);
            b0.intoArray(h, r0 + j + V);
            a1.intoArray(h, r1 + j);
            b1.intoArray(h, r1 + j + V);
            a2.intoArray(h, r2 + j);
            b2.intoArray(h, r2 + j + V);
            a3.intoArray(h, r3 + j);
            b3.intoArray(h, r3 + j + V);
        }
        for (int i = i0; i < i0 + ROWS; i++) row(h, x, k, d, i, j);
    }

    /** Row i, columns [j, d), straight from X: one vector at a time, then scalars (tails of the tiling). */
    private static void row(double[] h, double[] x, int k, int d, int i, int j) {
        int r = i * d;
        for (; j + V <= d; j += V) {
            DoubleVector a = DoubleVector.fromArray(S, h, r + j);
            for (int t = 0, xo = 0; t < k; t++, xo += d) {
                a = DoubleVector.broadcast(S, x[xo + i]).fma(DoubleVector.fromArray(S, x, xo + j), a);
            }
            a.intoArray(h, r + j);
        }
        for (; j < d; j++) {
            double s = h[r + j];
            for (int t = 0, xo = 0; t < k; t++, xo += d) s += x[xo + i] * x[xo + j];
            h[r + j] = s;
        }
    }
}
