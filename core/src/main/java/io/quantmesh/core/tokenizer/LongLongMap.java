package io.quantmesh.core.tokenizer;

import java.util.Arrays;

/**
 * Open-addressing hash map from non-negative long keys to long values, without boxing: the BPE merge table
 * (pair of ids → rank and merged id) and the byte trie's edges are looked up millions of times per text.
 */
final class LongLongMap {
    private static final long EMPTY = -1L;
    private long[] keys;
    private long[] values;
    private int size;
    private int mask;

    LongLongMap(int expected) {
        int capacity = Integer.highestOneBit(Math.max(4, expected) * 2 - 1) << 1;
        if (capacity <= 0) throw new IllegalArgumentException("map too large: " + expected);
        keys = new long[capacity];
        values = new long[capacity];
        Arrays.fill(keys, EMPTY);
        mask = capacity - 1;
    }

    int size() {
        return size;
    }

    /** The value for {@code key}, or {@code missing}. */
    long get(long key, long missing) {
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) return values[i];
            if (k == EMPTY) return missing;
        }
    }

    void put(long key, long value) {
        if (key < 0) throw new IllegalArgumentException("negative key " + key);
        if ((size + 1) * 2L > keys.length) grow();
        for (int i = slot(key); ; i = (i + 1) & mask) {
            long k = keys[i];
            if (k == key) {
                values[i] = value;
                return;
            }
            if (k == EMPTY) {
                keys[i] = key;
                values[i] = value;
                size++;
                return;
            }
        }
    }

    private int slot(long key) {
        long h = key * 0x9E3779B97F4A7C15L;
        return (int) (h ^ (h >>> 32)) & mask;
    }

    private void grow() {
        long[] oldKeys = keys;
        long[] oldValues = values;
        if (oldKeys.length >= 1 << 30) throw new IllegalStateException("map too large");
        keys = new long[oldKeys.length * 2];
        values = new long[oldKeys.length * 2];
        Arrays.fill(keys, EMPTY);
        mask = keys.length - 1;
        size = 0;
        for (int i = 0; i < oldKeys.length; i++) if (oldKeys[i] != EMPTY) put(oldKeys[i], oldValues[i]);
    }
}
