package io.quantmesh.core.codec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Codewords laid out for the Vector API: dimension-major ({@code soa[d * positions + p]}) so that one vector
 * holds coordinate d of L consecutive codewords, grouped in segments (the cells of a pruned search) padded to
 * a multiple of L with NaN rows. NaN scores never compare greater or smaller, so padding is never chosen and
 * needs no masks. The kernels do the canonical arithmetic of {@link ScalarReference} lane by lane.
 */
final class CodewordTable {
    static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    static final int L = F.length();

    final int k;
    final int positions;
    final float[] soa;
    /** Codeword row for each position; -1 for padding. */
    final int[] row;
    /** Segment s occupies positions {@code [segStart[s], segStart[s+1])}. */
    final int[] segStart;

    /**
     * @param rows     codewords, n x k row-major
     * @param segments for each segment, the rows it holds in ascending order (each row in exactly one segment)
     */
    CodewordTable(float[] rows, int k, int[][] segments) {
        this.k = k;
        this.segStart = new int[segments.length + 1];
        int p = 0;
        for (int s = 0; s < segments.length; s++) {
            segStart[s] = p;
            p += (segments[s].length + L - 1) / L * L;
        }
        segStart[segments.length] = p;
        this.positions = p;
        this.soa = new float[k * p];
        this.row = new int[p];
        java.util.Arrays.fill(soa, Float.NaN);
        java.util.Arrays.fill(row, -1);
        for (int s = 0; s < segments.length; s++) {
            int pos = segStart[s];
            for (int r : segments[s]) {
                for (int d = 0; d < k; d++) soa[d * p + pos] = rows[r * k + d];
                row[pos++] = r;
            }
        }
    }

    /** One segment holding all n rows in order: the brute-force layout. */
    static CodewordTable whole(float[] rows, int n, int k) {
        int[] all = new int[n];
        for (int i = 0; i < n; i++) all[i] = i;
        return new CodewordTable(rows, k, new int[][] {all});
    }

    int segments() {
        return segStart.length - 1;
    }

    int segmentSize(int s) {
        return segStart[s + 1] - segStart[s];
    }

    /** Offers segment s's first largest dot product with {@code x[xo..xo+k)} to {@code best}. */
    void argmaxDot(float[] x, int xo, int s, Best best) {
        int from = segStart[s], to = segStart[s + 1];
        if (from == to) return;
        FloatVector bv = FloatVector.broadcast(F, Float.NEGATIVE_INFINITY);
        IntVector bi = IntVector.broadcast(I, Integer.MAX_VALUE);
        if (k == 8) {
            int P = positions;
            float x0 = x[xo];
            FloatVector x1 = FloatVector.broadcast(F, x[xo + 1]), x2 = FloatVector.broadcast(F, x[xo + 2]);
            FloatVector x3 = FloatVector.broadcast(F, x[xo + 3]), x4 = FloatVector.broadcast(F, x[xo + 4]);
            FloatVector x5 = FloatVector.broadcast(F, x[xo + 5]), x6 = FloatVector.broadcast(F, x[xo + 6]);
            FloatVector x7 = FloatVector.broadcast(F, x[xo + 7]);
            for (int p = from; p < to; p += L) {
                FloatVector acc = FloatVector.fromArray(F, soa, p).mul(x0);
                acc = FloatVector.fromArray(F, soa, P + p).fma(x1, acc);
                acc = FloatVector.fromArray(F, soa, 2 * P + p).fma(x2, acc);
                acc = FloatVector.fromArray(F, soa, 3 * P + p).fma(x3, acc);
                acc = FloatVector.fromArray(F, soa, 4 * P + p).fma(x4, acc);
                acc = FloatVector.fromArray(F, soa, 5 * P + p).fma(x5, acc);
                acc = FloatVector.fromArray(F, soa, 6 * P + p).fma(x6, acc);
                acc = FloatVector.fromArray(F, soa, 7 * P + p).fma(x7, acc);
                VectorMask<Float> gt = acc.compare(VectorOperators.GT, bv);
                bv = bv.blend(acc, gt);
                bi = bi.blend(IntVector.fromArray(I, row, p), gt.cast(I));
            }
        } else {
            for (int p = from; p < to; p += L) {
                FloatVector acc = FloatVector.fromArray(F, soa, p).mul(x[xo]);
                for (int d = 1; d < k; d++) {
                    acc = FloatVector.fromArray(F, soa, d * positions + p).fma(FloatVector.broadcast(F, x[xo + d]), acc);
                }
                VectorMask<Float> gt = acc.compare(VectorOperators.GT, bv);
                bv = bv.blend(acc, gt);
                bi = bi.blend(IntVector.fromArray(I, row, p), gt.cast(I));
            }
        }
        float v = bv.reduceLanes(VectorOperators.MAX);
        VectorMask<Float> at = bv.compare(VectorOperators.EQ, v);
        int idx = bi.blend(Integer.MAX_VALUE, at.not().cast(I)).reduceLanes(VectorOperators.MIN);
        best.offerMax(v, idx);
    }

    /** Offers segment s's first smallest squared distance to {@code x[xo..xo+k)} to {@code best}. */
    void argminDistance(float[] x, int xo, int s, Best best) {
        int from = segStart[s], to = segStart[s + 1];
        if (from == to) return;
        FloatVector bv = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        IntVector bi = IntVector.broadcast(I, Integer.MAX_VALUE);
        if (k == 8) {
            int P = positions;
            float x0 = x[xo], x1 = x[xo + 1], x2 = x[xo + 2], x3 = x[xo + 3];
            float x4 = x[xo + 4], x5 = x[xo + 5], x6 = x[xo + 6], x7 = x[xo + 7];
            for (int p = from; p < to; p += L) {
                // d = x - c, computed as -(c - x): the same rounding, the same square.
                FloatVector d = FloatVector.fromArray(F, soa, p).sub(x0);
                FloatVector acc = d.mul(d);
                d = FloatVector.fromArray(F, soa, P + p).sub(x1);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 2 * P + p).sub(x2);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 3 * P + p).sub(x3);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 4 * P + p).sub(x4);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 5 * P + p).sub(x5);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 6 * P + p).sub(x6);
                acc = d.fma(d, acc);
                d = FloatVector.fromArray(F, soa, 7 * P + p).sub(x7);
                acc = d.fma(d, acc);
                VectorMask<Float> lt = acc.compare(VectorOperators.LT, bv);
                bv = bv.blend(acc, lt);
                bi = bi.blend(IntVector.fromArray(I, row, p), lt.cast(I));
            }
        } else {
            for (int p = from; p < to; p += L) {
                FloatVector d = FloatVector.fromArray(F, soa, p).sub(x[xo]);
                FloatVector acc = d.mul(d);
                for (int j = 1; j < k; j++) {
                    d = FloatVector.fromArray(F, soa, j * positions + p).sub(x[xo + j]);
                    acc = d.fma(d, acc);
                }
                VectorMask<Float> lt = acc.compare(VectorOperators.LT, bv);
                bv = bv.blend(acc, lt);
                bi = bi.blend(IntVector.fromArray(I, row, p), lt.cast(I));
            }
        }
        float v = bv.reduceLanes(VectorOperators.MIN);
        VectorMask<Float> at = bv.compare(VectorOperators.EQ, v);
        int idx = bi.blend(Integer.MAX_VALUE, at.not().cast(I)).reduceLanes(VectorOperators.MIN);
        best.offerMin(v, idx);
    }
}
