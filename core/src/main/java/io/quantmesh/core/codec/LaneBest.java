package io.quantmesh.core.codec;

import java.util.Arrays;

/**
 * The running winners of a codeword search, one per vector lane, kept in arrays between segment scans so a pruned
 * search can fold many small segments without reducing across lanes each time. Each lane keeps the better of
 * (score, index) pairs under the naive scan's rule: a strictly better score wins, an equal score goes to the lower
 * index. The final winner is reduced over lanes with the same rule, so the result does not depend on the order in
 * which segments were visited.
 */
final class LaneBest {
    final float[] value = new float[CodewordTable.L];
    final int[] index = new int[CodewordTable.L];

    void resetMax() {
        Arrays.fill(value, Float.NEGATIVE_INFINITY);
        Arrays.fill(index, Integer.MAX_VALUE);
    }

    void resetMin() {
        Arrays.fill(value, Float.POSITIVE_INFINITY);
        Arrays.fill(index, Integer.MAX_VALUE);
    }

    /** Winning index of a maximisation; 0 when no lane beat -inf (what the naive scan returns then). */
    int winnerMax() {
        int best = Integer.MAX_VALUE;
        float bv = Float.NEGATIVE_INFINITY;
        for (int l = 0; l < value.length; l++) {
            if (value[l] > bv || (value[l] == bv && index[l] < best)) {
                bv = value[l];
                best = index[l];
            }
        }
        return best == Integer.MAX_VALUE ? 0 : best;
    }

    /** Winning index of a minimisation; 0 when no lane beat +inf. */
    int winnerMin() {
        int best = Integer.MAX_VALUE;
        float bv = Float.POSITIVE_INFINITY;
        for (int l = 0; l < value.length; l++) {
            if (value[l] < bv || (value[l] == bv && index[l] < best)) {
                bv = value[l];
                best = index[l];
            }
        }
        return best == Integer.MAX_VALUE ? 0 : best;
    }
}
