package io.quantmesh.core.codec;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * Codewords laid out for the Vector API: dimension-major ({@code soa[d * positions + p]}) so that one vector
 * holds coordinate d of L consecutive codewords, grouped in segments (the cells of a pruned search) padded to
 * a multiple of L with NaN rows. NaN scores never compare better, so padding is never chosen and needs no masks.
 * The kernels do the canonical arithmetic of {@link ScalarReference} lane by lane and fold each lane's winner
 * into a {@link LaneBest} with the naive tie rule.
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
     * @param segments for each segment, the rows it holds (each row in exactly one segment)
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

    /**
     * Folds segment s's dot products with {@code x[xo..xo+k)} into {@code lanes}; returns the best over lanes, given
     * that it was {@code best} before (the lanes are reduced again only when the segment improved one).
     */
    float maxDot(float[] x, int xo, int s, LaneBest lanes, float best) {
        int from = segStart[s], to = segStart[s + 1];
        FloatVector bv = FloatVector.fromArray(F, lanes.value, 0);
        IntVector bi = IntVector.fromArray(I, lanes.index, 0);
        VectorMask<Float> changed = F.maskAll(false);
        for (int p = from; p < to; p += L) {
            FloatVector acc = k == 8 ? dot8(x, xo, p) : dotK(x, xo, p);
            IntVector idx = IntVector.fromArray(I, row, p);
            VectorMask<Float> better = acc.compare(VectorOperators.GT, bv)
                    .or(acc.compare(VectorOperators.EQ, bv).and(idx.compare(VectorOperators.LT, bi).cast(F)));
            bv = bv.blend(acc, better);
            bi = bi.blend(idx, better.cast(I));
            changed = changed.or(better);
        }
        if (!changed.anyTrue()) return best;
        bv.intoArray(lanes.value, 0);
        bi.intoArray(lanes.index, 0);
        return bv.reduceLanes(VectorOperators.MAX);
    }

    /** As {@link #maxDot}, for the smallest squared distance to {@code x[xo..xo+k)}. */
    float minDistance(float[] x, int xo, int s, LaneBest lanes, float best) {
        int from = segStart[s], to = segStart[s + 1];
        FloatVector bv = FloatVector.fromArray(F, lanes.value, 0);
        IntVector bi = IntVector.fromArray(I, lanes.index, 0);
        VectorMask<Float> changed = F.maskAll(false);
        for (int p = from; p < to; p += L) {
            FloatVector acc = k == 8 ? dist8(x, xo, p) : distK(x, xo, p);
            IntVector idx = IntVector.fromArray(I, row, p);
            VectorMask<Float> better = acc.compare(VectorOperators.LT, bv)
                    .or(acc.compare(VectorOperators.EQ, bv).and(idx.compare(VectorOperators.LT, bi).cast(F)));
            bv = bv.blend(acc, better);
            bi = bi.blend(idx, better.cast(I));
            changed = changed.or(better);
        }
        if (!changed.anyTrue()) return best;
        bv.intoArray(lanes.value, 0);
        bi.intoArray(lanes.index, 0);
        return bv.reduceLanes(VectorOperators.MIN);
    }

    private FloatVector dot8(float[] x, int xo, int p) {
        int P = positions;
        FloatVector acc = FloatVector.fromArray(F, soa, p).mul(x[xo]);
        acc = FloatVector.fromArray(F, soa, P + p).fma(FloatVector.broadcast(F, x[xo + 1]), acc);
        acc = FloatVector.fromArray(F, soa, 2 * P + p).fma(FloatVector.broadcast(F, x[xo + 2]), acc);
        acc = FloatVector.fromArray(F, soa, 3 * P + p).fma(FloatVector.broadcast(F, x[xo + 3]), acc);
        acc = FloatVector.fromArray(F, soa, 4 * P + p).fma(FloatVector.broadcast(F, x[xo + 4]), acc);
        acc = FloatVector.fromArray(F, soa, 5 * P + p).fma(FloatVector.broadcast(F, x[xo + 5]), acc);
        acc = FloatVector.fromArray(F, soa, 6 * P + p).fma(FloatVector.broadcast(F, x[xo + 6]), acc);
        return FloatVector.fromArray(F, soa, 7 * P + p).fma(FloatVector.broadcast(F, x[xo + 7]), acc);
    }

    private FloatVector dotK(float[] x, int xo, int p) {
        FloatVector acc = FloatVector.fromArray(F, soa, p).mul(x[xo]);
        for (int d = 1; d < k; d++) {
            acc = FloatVector.fromArray(F, soa, d * positions + p).fma(FloatVector.broadcast(F, x[xo + d]), acc);
        }
        return acc;
    }

    // d = x - c is computed as -(c - x): the same rounding, hence the same square.
    private FloatVector dist8(float[] x, int xo, int p) {
        int P = positions;
        FloatVector d = FloatVector.fromArray(F, soa, p).sub(x[xo]);
        FloatVector acc = d.mul(d);
        d = FloatVector.fromArray(F, soa, P + p).sub(x[xo + 1]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 2 * P + p).sub(x[xo + 2]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 3 * P + p).sub(x[xo + 3]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 4 * P + p).sub(x[xo + 4]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 5 * P + p).sub(x[xo + 5]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 6 * P + p).sub(x[xo + 6]);
        acc = d.fma(d, acc);
        d = FloatVector.fromArray(F, soa, 7 * P + p).sub(x[xo + 7]);
        return d.fma(d, acc);
    }

    private FloatVector distK(float[] x, int xo, int p) {
        FloatVector d = FloatVector.fromArray(F, soa, p).sub(x[xo]);
        FloatVector acc = d.mul(d);
        for (int j = 1; j < k; j++) {
            d = FloatVector.fromArray(F, soa, j * positions + p).sub(x[xo + j]);
            acc = d.fma(d, acc);
        }
        return acc;
    }
}
