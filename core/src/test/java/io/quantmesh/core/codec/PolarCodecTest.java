package io.quantmesh.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class PolarCodecTest {
    private static final float S = (float) Math.sqrt(0.5);

    @Test
    void codesDirectionByCosineAndMagnitudeByProjection() {
        // directions e0 and (e0+e1)/sqrt2; magnitudes 1, 2, 4
        PolarCodec c = new PolarCodec(2, new float[] {1, 0, S, S}, new float[] {1, 2, 4});
        assertEquals(1, c.directionBits());
        assertEquals(2, c.magnitudeBits());
        float[] x = {3, 0.2f, 1, 1.1f};
        int[] codes = c.encode(x, 2);
        // x0: cos to e0 is larger; projection 3 -> level 2 or 4? |3-2| = 1 = |3-4|: tie goes to the lower level
        assertEquals(c.code(0, 1), codes[0]);
        // x1: direction (e0+e1)/sqrt2, projection 2.1*S = 1.485 -> level 1 (|1.485-1| < |1.485-2|)
        assertEquals(c.code(1, 0), codes[1]);
        float[] dec = c.decode(codes, 2);
        assertArrayEquals(new float[] {2, 0, S, S}, dec, 1e-7f);
    }

    @Test
    void projectionNotNormDecidesTheMagnitude() {
        PolarCodec c = new PolarCodec(2, new float[] {1, 0, 0, 1}, new float[] {1, 1.9f});
        float[] x = {1.3f, 1.2f}; // norm 1.77 (nearer 1.9) but projection onto e0 is 1.3 (nearer 1)
        assertEquals(c.code(0, 0), c.encode(x, 1)[0]);
    }

    @Test
    void rejectsBadCodebooksAndInputs() {
        assertThrows(IllegalArgumentException.class, () -> new PolarCodec(2, new float[] {2, 0}, new float[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new PolarCodec(2, new float[] {1, 0}, new float[] {2, 1}));
        assertThrows(IllegalArgumentException.class, () -> new PolarCodec(0, new float[] {1}, new float[] {1}));
        PolarCodec c = new PolarCodec(2, new float[] {1, 0}, new float[] {1});
        assertThrows(IllegalArgumentException.class, () -> c.encode(new float[] {Float.NaN, 0}, 1));
        assertThrows(IllegalArgumentException.class, () -> c.encode(new float[] {1, 0}, 2));
        assertThrows(IllegalArgumentException.class, () -> c.decode(new int[] {5}, 1));
    }
}
