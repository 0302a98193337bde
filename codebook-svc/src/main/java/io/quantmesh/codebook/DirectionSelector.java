package io.quantmesh.codebook;

import io.quantmesh.core.codec.ScalarReference;
import io.quantmesh.core.parallel.Parallel;
import java.util.Arrays;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorMask;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;

/**
 * DACC's greedy farthest-point selection under cosine: start from one candidate, then repeatedly add the candidate
 * whose largest cosine to the chosen set is smallest.
 *
 * <p>Each candidate keeps its current largest cosine to the chosen set; adding a direction updates it with one dot
 * product per candidate, fused with the search for the next pick, so a selection of m from n costs m·n dot
 * products. Candidates are split into fixed chunks scanned in parallel (Vector API over a dimension-major copy);
 * each chunk reports its minimum and the lowest index attaining it, and chunks are merged in order, so the picks
 * do not depend on the thread count. The dot products use the canonical arithmetic of
 * {@link ScalarReference#dot}, which the plain-Java twin ({@link #selectNaive}) reproduces bit for bit.
 */
public final class DirectionSelector {
    private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
    private static final VectorSpecies<Integer> I = IntVector.SPECIES_PREFERRED;
    private static final int L = F.length();
    private static final int CHUNK = 8192; // a multiple of every lane count

    private DirectionSelector() {}

    /**
     * Picks {@code m} of the {@code n} unit directions ({@code dirs}, n x k), starting with {@code start}.
     * Returns the candidate indices in pick order. {@code cancel} is polled once per pick.
     */
    public static int[] select(float[] dirs, int n, int k, int m, int start, Parallel parallel, Cancellation cancel) {
        check(n, k, m, start);
        int padded = (n + L - 1) / L * L;
        float[] soa = new float[k * padded];
        for (int j = 0; j < n; j++) for (int i = 0; i < k; i++) soa[i * padded + j] = dirs[j * k + i];
        float[] maxCos = new float[padded];
        Arrays.fill(maxCos, Float.NEGATIVE_INFINITY);
        Arrays.fill(maxCos, n, padded, Float.POSITIVE_INFINITY); // padding is never picked
        int chunks = Parallel.chunks(padded, CHUNK);
        float[] chunkMin = new float[chunks];
        int[] chunkArg = new int[chunks];
        int[] picks = new int[m];
        float[] q = new float[k];
        int pick = start;
        for (int t = 0; t < m; t++) {
            picks[t] = pick;
            if (t == m - 1) break;
            cancel.check();
            System.arraycopy(dirs, pick * k, q, 0, k);
            maxCos[pick] = Float.POSITIVE_INFINITY;
            parallel.forChunks(padded, CHUNK, (c, from, to) -> {
                long r = updateChunk(soa, padded, k, q, maxCos, from, to);
                chunkMin[c] = Float.intBitsToFloat((int) (r >>> 32));
                chunkArg[c] = (int) r;
            });
            pick = mergeChunks(chunkMin, chunkArg);
        }
        return picks;
    }

    /** The plain-Java twin of {@link #select}: one pass per pick, in index order. */
    public static int[] selectNaive(float[] dirs, int n, int k, int m, int start) {
        check(n, k, m, start);
        float[] maxCos = new float[n];
        Arrays.fill(maxCos, Float.NEGATIVE_INFINITY);
        int[] picks = new int[m];
        int pick = start;
        for (int t = 0; t < m; t++) {
            picks[t] = pick;
            maxCos[pick] = Float.POSITIVE_INFINITY;
            int next = -1;
            float nextV = Float.POSITIVE_INFINITY;
            for (int j = 0; j < n; j++) {
                float v = Math.max(maxCos[j], ScalarReference.dot(dirs, pick * k, dirs, j * k, k));
                maxCos[j] = v;
                if (v < nextV) {
                    nextV = v;
                    next = j;
                }
            }
            pick = next;
        }
        return picks;
    }

    private static void check(int n, int k, int m, int start) {
        if (m < 1 || m > n) throw new IllegalArgumentException("cannot pick " + m + " of " + n + " candidates");
        if (start < 0 || start >= n) throw new IllegalArgumentException("start " + start + " outside 0.." + (n - 1));
        if (k < 1) throw new IllegalArgumentException("k must be positive");
    }

    // Returns (float bits of the chunk minimum) << 32 | index of its first occurrence.
    private static long updateChunk(float[] soa, int P, int k, float[] q, float[] maxCos, int from, int to) {
        FloatVector bv = FloatVector.broadcast(F, Float.POSITIVE_INFINITY);
        IntVector bi = IntVector.broadcast(I, Integer.MAX_VALUE);
        IntVector lane = IntVector.zero(I).addIndex(1);
        for (int p = from; p < to; p += L) {
            FloatVector acc = FloatVector.fromArray(F, soa, p).mul(q[0]);
            for (int d = 1; d < k; d++) acc = FloatVector.fromArray(F, soa, d * P + p).fma(FloatVector.broadcast(F, q[d]), acc);
            FloatVector v = FloatVector.fromArray(F, maxCos, p).max(acc);
            v.intoArray(maxCos, p);
            VectorMask<Float> lt = v.compare(VectorOperators.LT, bv);
            bv = bv.blend(v, lt);
            bi = bi.blend(lane.add(p), lt.cast(I));
        }
        float min = bv.reduceLanes(VectorOperators.MIN);
        int arg = bi.blend(Integer.MAX_VALUE, bv.compare(VectorOperators.EQ, min).not().cast(I)).reduceLanes(VectorOperators.MIN);
        return ((long) Float.floatToRawIntBits(min) << 32) | (arg & 0xffffffffL);
    }

    private static int mergeChunks(float[] min, int[] arg) {
        int best = arg[0];
        float bv = min[0];
        for (int c = 1; c < min.length; c++) {
            if (min[c] < bv) { // chunks are in index order: an equal later minimum has a higher index
                bv = min[c];
                best = arg[c];
            }
        }
        return best;
    }
}
