package io.quantmesh.core.model.llama;

import java.util.Arrays;

/**
 * The key/value cache of one sequence: per layer, the rotated keys and the values of every position fed so far,
 * row-major [position][kvHeads*headDim]. Grows by doubling up to the context length.
 */
public final class KvCache {
    private final float[][] keys;
    private final float[][] values;
    private final int kvDim;
    private final int contextLength;
    private int position;

    KvCache(int layers, int kvDim, int contextLength) {
        this.keys = new float[layers][];
        this.values = new float[layers][];
        this.kvDim = kvDim;
        this.contextLength = contextLength;
    }

    /** Number of positions fed so far. */
    public int position() {
        return position;
    }

    /** Marks the n positions after {@link #position()} as fed (after the last layer wrote them). */
    public void advance(int n) {
        position += n;
    }

    float[] keys(int layer) {
        return keys[layer];
    }

    float[] values(int layer) {
        return values[layer];
    }

    /** Grows the cache to hold {@code positions} (doubling, capped at the context length). */
    void reserve(int positions) {
        int have = keys[0] == null ? 0 : keys[0].length / kvDim;
        if (positions <= have) return;
        int cap = Math.min(contextLength, Math.max(positions, Math.max(64, 2 * have)));
        for (int l = 0; l < keys.length; l++) {
            keys[l] = keys[l] == null ? new float[cap * kvDim] : Arrays.copyOf(keys[l], cap * kvDim);
            values[l] = values[l] == null ? new float[cap * kvDim] : Arrays.copyOf(values[l], cap * kvDim);
        }
    }
}
