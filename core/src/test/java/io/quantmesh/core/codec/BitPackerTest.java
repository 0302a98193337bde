package io.quantmesh.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class BitPackerTest {
    @Test
    void roundTripsEveryWidth() {
        SplittableRandom rnd = new SplittableRandom(1);
        for (int w = 1; w <= 24; w++) {
            for (int count : new int[] {0, 1, 31, 32, 33, 1000}) {
                int[] idx = new int[count];
                for (int i = 0; i < count; i++) idx[i] = rnd.nextInt(1 << w);
                if (count > 0) idx[count - 1] = (1 << w) - 1; // all ones at the end
                int[] words = BitPacker.pack(idx, w);
                assertEquals((count * w + 31) / 32, words.length);
                assertArrayEquals(idx, BitPacker.unpack(words, w, count), "width " + w + " count " + count);
            }
        }
    }

    @Test
    void layoutIsLsbFirst() {
        // 3-bit indices 1,2,3,4 -> stream bits 001 010 011 100 read LSB-first: word = 1 | 2<<3 | 3<<6 | 4<<9
        assertArrayEquals(new int[] {1 | 2 << 3 | 3 << 6 | 4 << 9}, BitPacker.pack(new int[] {1, 2, 3, 4}, 3));
        // a 24-bit index straddles words: index 1 occupies bits 24..47
        int[] w = BitPacker.pack(new int[] {0, 0xABCDEF}, 24);
        assertEquals(0xEF << 24, w[0]);
        assertEquals(0xABCD, w[1]);
        // unpack a sub-range
        int[] out = new int[1];
        BitPacker.unpack(w, 24, 1, 1, out, 0);
        assertEquals(0xABCDEF, out[0]);
    }

    @Test
    void rejectsBadInput() {
        assertThrows(IllegalArgumentException.class, () -> BitPacker.pack(new int[] {8}, 3));
        assertThrows(IllegalArgumentException.class, () -> BitPacker.pack(new int[] {-1}, 3));
        assertThrows(IllegalArgumentException.class, () -> BitPacker.pack(new int[] {0}, 25));
        assertThrows(IllegalArgumentException.class, () -> BitPacker.pack(new int[] {0}, 0));
        assertThrows(IllegalArgumentException.class, () -> BitPacker.unpack(new int[1], 8, 5));
        assertEquals(1, BitPacker.widthFor(1));
        assertEquals(1, BitPacker.widthFor(2));
        assertEquals(14, BitPacker.widthFor(1 << 14));
        assertEquals(15, BitPacker.widthFor((1 << 14) + 1));
    }
}
