package io.quantmesh.core.quantized;

import io.quantmesh.core.codec.BitPacker;

/**
 * A stream of {@code count} unsigned indices of {@code width} bits, packed LSB-first into int32 words by
 * {@link BitPacker}: the one layout of every index tensor of the format (docs/FORMAT.md §Bit packing). The stream
 * is canonical: exactly {@code ceil(count * width / 32)} words and the unused high bits of the last word zero, so
 * a checkpoint has one byte representation.
 */
public record PackedIndices(int width, long count, int[] words) {
    public PackedIndices {
        int expected = BitPacker.words(count, width);   // checks width 1..24 and count >= 0
        if (words.length != expected) {
            throw new IllegalArgumentException(count + " indices of " + width + " bits take " + expected
                    + " int32 words, got " + words.length);
        }
        int used = (int) (count * width % 32);
        if (used != 0 && words[words.length - 1] >>> used != 0) {
            throw new IllegalArgumentException("the padding bits after the last of " + count + " indices are not zero");
        }
    }

    /** Packs {@code indices}, each of which must fit {@code width} bits. */
    public static PackedIndices pack(int[] indices, int width) {
        return new PackedIndices(width, indices.length, BitPacker.pack(indices, width));
    }

    public int[] unpack() {
        return BitPacker.unpack(words, width, Math.toIntExact(count));
    }

    /** Unpacks and checks that every index is below {@code limit} (a codebook that is not a power of two). */
    public int[] unpackBelow(int limit, String what) {
        int[] out = unpack();
        if (limit < (1L << width)) {
            for (int i = 0; i < out.length; i++) {
                if (out[i] >= limit) {
                    throw new IllegalArgumentException(what + ": index " + out[i] + " at position " + i
                            + " is outside the codebook of " + limit + " entries");
                }
            }
        }
        return out;
    }

    /** Bits of index information: {@code count * width} (the word padding is not counted). */
    public long bits() {
        return count * width;
    }

    /** Equal streams: same width, count and words. */
    @Override
    public boolean equals(Object o) {
        return o instanceof PackedIndices p && p.width == width && p.count == count && java.util.Arrays.equals(p.words, words);
    }

    @Override
    public int hashCode() {
        return 31 * (31 * width + Long.hashCode(count)) + java.util.Arrays.hashCode(words);
    }

    @Override
    public String toString() {
        return "PackedIndices[" + count + " x " + width + " bits]";
    }
}
