package io.quantmesh.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;

class ScalarCodecTest {
    @Test
    void nf4MatchesThePublishedTable() {
        // QLoRA / bitsandbytes NF4 values
        double[] published = {-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
            -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0, 0.07958029955625534,
            0.16093020141124725, 0.24611230194568634, 0.33791524171829224, 0.44070982933044434,
            0.5626170039176941, 0.7229568362236023, 1.0};
        float[] nf4 = GridTable.NF4.table();
        for (int i = 0; i < 16; i++) assertEquals(published[i], nf4[i], 2e-6, "NF4[" + i + "]");
        float[] nf3 = GridTable.NF3.table();
        assertEquals(8, nf3.length);
        assertEquals(-1f, nf3[0]);
        assertEquals(0f, nf3[3]);
        assertEquals(1f, nf3[7]);
    }

    @Test
    void fp4IsE2M1SignMagnitude() {
        float[] v = GridTable.FP4.table();
        assertArrayEquals(new float[] {0, 0.5f / 6, 1f / 6, 1.5f / 6, 2f / 6, 3f / 6, 4f / 6, 1}, java.util.Arrays.copyOf(v, 8));
        assertEquals(-3f / 6, v[8 + 5]);
        assertArrayEquals(new float[] {0, 0.25f, 0.5f, 1, -0f, -0.25f, -0.5f, -1}, GridTable.FP3.table());
    }

    @Test
    void twoScalesCodeEachSideWithItsOwnRange() {
        ScalarCodec fp4 = ScalarCodec.named("fp4");
        ScalarCodec.Quantizer q = fp4.forRange(-0.6f, 6f); // s- = 0.6, s+ = 6
        assertArrayEquals(new float[] {6f, 0.6f}, q.parameters());
        assertEquals(6f, q.roundTrip(6f));
        assertEquals(3f, q.roundTrip(2.9f));
        assertEquals(-0.6f, q.roundTrip(-0.6f), 1e-7);
        assertEquals(-0.3f, q.roundTrip(-0.29f), 1e-7); // 3/6 of s-
        assertEquals(0f, q.roundTrip(0f));
        // positives only: negatives (none here) have scale 0 and decode to 0
        ScalarCodec.Quantizer pos = ScalarCodec.named("NF4").forRange(0f, 2f);
        assertEquals(2f, pos.roundTrip(2f));
        assertEquals(0f, pos.roundTrip(-1f));
    }

    @Test
    void intAsymmetricIsExactOnItsGridAndAtZero() {
        ScalarCodec int2 = ScalarCodec.named("INT2");
        ScalarCodec.Quantizer q = int2.forRange(-1f, 2f); // scale 1, zero 1: grid -1,0,1,2
        assertArrayEquals(new float[] {1f, 1f}, q.parameters());
        for (float v : new float[] {-1, 0, 1, 2}) assertEquals(v, q.roundTrip(v));
        assertEquals(2f, q.roundTrip(7f)); // clamps
        assertEquals(-1f, q.roundTrip(-7f));
        ScalarCodec.Quantizer z = new IntAsymmetricCodec(4).forRange(0.5f, 3f); // widened to [0,3]
        assertEquals(0f, z.roundTrip(0f));
        assertEquals(0, ((IntAsymmetricCodec.Fitted) z).zero());
        assertThrows(IllegalArgumentException.class, () -> ScalarCodec.named("INT9"));
        assertThrows(IllegalArgumentException.class, () -> ScalarCodec.named("FP5"));
        assertThrows(IllegalArgumentException.class, () -> int2.forRange(1f, -1f));
    }
}
