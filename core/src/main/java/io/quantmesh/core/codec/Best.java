package io.quantmesh.core.codec;

/**
 * The running winner of a codeword search: its score and index. Searches that visit codewords out of index
 * order merge partial winners here with the same rule as the naive twin's in-order scan: a strictly better
 * score wins, an equal score goes to the lower index.
 */
public final class Best {
    public float value;
    public int index;

    private Best(float value) {
        this.value = value;
        this.index = Integer.MAX_VALUE;
    }

    /** An empty winner for a maximisation (dot products). */
    public static Best forMax() {
        return new Best(Float.NEGATIVE_INFINITY);
    }

    /** An empty winner for a minimisation (distances). */
    public static Best forMin() {
        return new Best(Float.POSITIVE_INFINITY);
    }

    public void resetMax() {
        value = Float.NEGATIVE_INFINITY;
        index = Integer.MAX_VALUE;
    }

    public void resetMin() {
        value = Float.POSITIVE_INFINITY;
        index = Integer.MAX_VALUE;
    }

    void offerMax(float v, int i) {
        if (v > value || (v == value && i < index)) {
            value = v;
            index = i;
        }
    }

    void offerMin(float v, int i) {
        if (v < value || (v == value && i < index)) {
            value = v;
            index = i;
        }
    }

    /** The winning index; 0 when nothing beat the initial score, which is what the naive scan returns then. */
    public int indexOrZero() {
        return index == Integer.MAX_VALUE ? 0 : index;
    }
}
