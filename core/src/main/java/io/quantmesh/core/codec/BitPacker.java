package io.quantmesh.core.codec;

/**
 * Packs unsigned indices of a fixed width (1..24 bits) into a little-endian bit stream of int32 words,
 * LSB-first: index {@code i} occupies stream bits {@code [i*w, (i+1)*w)}, and stream bit {@code t} is bit
 * {@code t % 32} of word {@code t / 32}. Its low bits come first, so an index may straddle two words.
 * This is the layout of every packed-index tensor in a quantized checkpoint (docs/FORMAT.md).
 */
public final class BitPacker {
    public static final int MAX_WIDTH = 24;

    private BitPacker() {}

    /** Number of int32 words that hold {@code count} indices of {@code width} bits. */
    public static int words(long count, int width) {
        checkWidth(width);
        if (count < 0) throw new IllegalArgumentException("negative index count " + count);
        long bits = count * width;
        long w = (bits + 31) >>> 5;
        if (w > Integer.MAX_VALUE - 8) throw new IllegalArgumentException(count + " indices of " + width + " bits do not fit one array");
        return (int) w;
    }

    public static int[] pack(int[] indices, int width) {
        return pack(indices, 0, indices.length, width);
    }

    /** Packs {@code indices[from, from+count)}; every index must lie in {@code [0, 2^width)}. */
    public static int[] pack(int[] indices, int from, int count, int width) {
        int[] out = new int[words(count, width)];
        long limit = 1L << width;
        long acc = 0;     // pending bits, LSB = next stream bit
        int accBits = 0;
        int w = 0;
        for (int i = 0; i < count; i++) {
            int v = indices[from + i];
            if (v < 0 || v >= limit) {
                throw new IllegalArgumentException("index " + v + " at " + (from + i) + " does not fit " + width + " bits");
            }
            acc |= ((long) v) << accBits;
            accBits += width;
            if (accBits >= 32) {
                out[w++] = (int) acc;
                acc >>>= 32;
                accBits -= 32;
            }
        }
        if (accBits > 0) out[w] = (int) acc;
        return out;
    }

    /** Unpacks {@code count} indices of {@code width} bits from {@code words}. */
    public static int[] unpack(int[] words, int width, int count) {
        int[] out = new int[count];
        unpack(words, width, 0, count, out, 0);
        return out;
    }

    /** Unpacks indices {@code [first, first+count)} of the stream into {@code out[outOff..]}. */
    public static void unpack(int[] words, int width, long first, int count, int[] out, int outOff) {
        checkWidth(width);
        if (first < 0 || count < 0) throw new IllegalArgumentException("negative range");
        long endBit = (first + count) * width;
        if (endBit > (long) words.length * 32) {
            throw new IllegalArgumentException("stream of " + words.length + " words holds fewer than "
                    + (first + count) + " indices of " + width + " bits");
        }
        int mask = (int) ((1L << width) - 1);
        long bit = first * width;
        for (int i = 0; i < count; i++, bit += width) {
            int word = (int) (bit >>> 5);
            int shift = (int) (bit & 31);
            long two = Integer.toUnsignedLong(words[word]);
            if (shift + width > 32) two |= Integer.toUnsignedLong(words[word + 1]) << 32;
            out[outOff + i] = (int) (two >>> shift) & mask;
        }
    }

    /** Smallest width that holds indices {@code 0..n-1} (at least 1). */
    public static int widthFor(int n) {
        if (n < 1) throw new IllegalArgumentException("need at least one codeword, got " + n);
        return Math.max(1, 32 - Integer.numberOfLeadingZeros(n - 1));
    }

    private static void checkWidth(int width) {
        if (width < 1 || width > MAX_WIDTH) {
            throw new IllegalArgumentException("index width must be 1.." + MAX_WIDTH + " bits, got " + width);
        }
    }
}
