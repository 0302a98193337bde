package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class HadamardRotationTest {
    /**
     * {@code io.quantmesh.core.linalg.RandomizedHadamard.transformWeight} (branch quant, the GPTQ loop's rotation) of
     * {@code w[i] = (i % 7) − 3 + i/4}, 8×6, output seed 1, input seed 2: the format's convention (sign draw, T = H·D,
     * blocks of 8 and 2, rows then columns) pinned by value, inexact 1/√8 and 1/√2 scales included. (A standalone
     * comparison of that class with this one over 50 shapes and seeds, 3.3M entries each way, found no differing bit.)
     */
    static final int[] GOLDEN_8X6 = {0xc037fff9, 0x40180000, 0xbfeffff7, 0xbf900000, 0x40280002, 0xbf900000, 0x3f200000,
        0xbf900000, 0x3fd00000, 0x40180000, 0xbf5ffff9, 0x40180000, 0xc0dc0000, 0x40180000, 0xc1830000, 0x40180000,
        0xc175ffff, 0xbf900000, 0x3f200000, 0xbf900000, 0xbff00000, 0xbf900000, 0xbf600007, 0x40180000, 0xc09c0001,
        0x40180000, 0xc0780005, 0xbf900000, 0xc11e0001, 0x40180000, 0x3f200000, 0xbf900000, 0x3fd00000, 0x40180000,
        0xc08c0001, 0xbf900000, 0x41b50000, 0xbdfffffb, 0x41b90000, 0xbdfffffb, 0x41bcffff, 0xbdfffffb, 0xbebffff7,
        0xbf900000, 0xc037ffff, 0xbf900000, 0xc0abffff, 0xbf900000};

    @Test
    void matchesTheGptqLoopsRotationBitForBit() {
        int rows = 8, cols = 6;
        float[] w = new float[rows * cols];
        for (int i = 0; i < w.length; i++) w[i] = (i % 7) - 3 + 0.25f * i;
        float[] got = HadamardRotation.rotate(w, rows, cols, HadamardRotation.negativeSigns(rows, 1),
                HadamardRotation.negativeSigns(cols, 2));
        assertArrayEquals(GOLDEN_8X6, Layers.bits(got));
    }

    @Test
    void signsAreSplittableRandomBooleans() {
        SplittableRandom rnd = new SplittableRandom(42);
        boolean[] negative = HadamardRotation.negativeSigns(1000, 42);
        for (boolean n : negative) assertEquals(!rnd.nextBoolean(), n);
        assertArrayEquals(new boolean[] {true, false, true, true, true, true, false, false}, HadamardRotation.negativeSigns(8, 1));
    }

    @Test
    void transformIsTheNormalisedSylvesterMatrixPerBlock() {
        SplittableRandom rnd = new SplittableRandom(3);
        for (int n : new int[] {1, 2, 5, 12, 64, 96, 44}) {
            int p = HadamardRotation.blockSize(n);
            assertEquals(Integer.lowestOneBit(n), p);
            float[] x = new float[n];
            for (int i = 0; i < n; i++) x[i] = (float) rnd.nextGaussian();
            float[] y = x.clone();
            HadamardRotation.transform(y, 0, n);
            for (int b = 0; b < n; b += p) {
                for (int i = 0; i < p; i++) {
                    double s = 0;
                    for (int j = 0; j < p; j++) s += (Integer.bitCount(i & j) % 2 == 0 ? 1 : -1) * (double) x[b + j];
                    assertEquals(s / Math.sqrt(p), y[b + i], 1e-5, "n=" + n + " i=" + (b + i));
                }
            }
        }
    }

    @Test
    void unrotateInvertsRotateAndPreservesTheNorm() {
        int rows = 44, cols = 96;
        float[] w = Layers.weights(rows, cols, 1);
        boolean[] out = HadamardRotation.negativeSigns(rows, 5), in = HadamardRotation.negativeSigns(cols, 6);
        float[] r = HadamardRotation.rotate(w, rows, cols, out, in);
        double n0 = 0, n1 = 0, maxErr = 0;
        float[] back = HadamardRotation.unrotate(r, rows, cols, out, in);
        for (int i = 0; i < w.length; i++) {
            n0 += w[i] * w[i];
            n1 += r[i] * r[i];
            maxErr = Math.max(maxErr, Math.abs(back[i] - w[i]));
        }
        assertEquals(n0, n1, 1e-4 * n0);
        assertTrue(maxErr < 1e-6, "max |W - unrotate(rotate(W))| = " + maxErr);
    }
}
