package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class LloydMaxTest {
    @Test
    void gaussianMatchesTheClassicalTables() {
        // Max (1960): 1 bit ±0.7979, D = 0.3634; 2 bits ±0.4528, ±1.5104, D = 0.1175
        LloydMax.Result one = LloydMax.gaussian(2);
        assertEquals(Math.sqrt(2 / Math.PI), one.levels()[1], 1e-9);
        assertEquals(1 - 2 / Math.PI, one.mse(), 1e-9);
        LloydMax.Result two = LloydMax.gaussian(4);
        assertArrayEquals(new double[] {-1.5104, -0.4528, 0.4528, 1.5104}, two.levels(), 1e-4);
        assertEquals(0.11748, two.mse(), 1e-5);
        assertArrayEquals(new double[] {-0.9816, 0, 0.9816}, two.thresholds(), 1e-4);
    }

    @Test
    void chiMagnitudesAreOrderedAndBeatTheVariance() {
        LloydMax.Result r = ChiLloydMax.design(8, 4);
        double[] l = r.levels();
        for (int i = 1; i < l.length; i++) assertTrue(l[i] > l[i - 1]);
        // E[r] for chi_8 is sqrt(2) Γ(4.5) / Γ(4) = 2.74163; Var = 8 - E[r]^2 = 0.4835
        double mean = Math.sqrt(2) * Math.exp(ChiLloydMax.logGammaHalf(9) - ChiLloydMax.logGammaHalf(8));
        assertEquals(2.74163, mean, 1e-5);
        assertTrue(r.mse() < 0.4835 * 0.2, "2-bit Lloyd-Max removes most of the variance: " + r.mse());
        assertTrue(l[0] > 0.5 && l[3] < 5, "levels sit where chi_8 has its mass");
        assertEquals(Math.log(6), ChiLloydMax.logGammaHalf(8), 1e-15); // Γ(4) = 3!
        assertEquals(Math.log(0.75 * Math.sqrt(Math.PI)), ChiLloydMax.logGammaHalf(5), 1e-14); // Γ(5/2)
    }
}
