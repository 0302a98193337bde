package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class LatticeCandidatesTest {
    @Test
    void e8ShellsHaveTheKnownSizes() {
        // E8 theta series: 240 points of norm 2, 2160 of norm 4, 6720 of norm 6, 17520 of norm 8;
        // the 240 points of norm 8 that are 2x a norm-2 point repeat a direction.
        assertEquals(240, LatticeCandidates.withinNorm2(8, 2).count());
        assertEquals(2400, LatticeCandidates.withinNorm2(8, 4).count());
        assertEquals(240 + 2160 + 6720, LatticeCandidates.withinNorm2(8, 6).count());
        LatticeCandidates c = LatticeCandidates.withinNorm2(8, 8);
        assertEquals(240 + 2160 + 6720 + 17520 - 240, c.count());
        assertEquals(c, c); // smoke
        int[] p = c.points();
        Set<String> dirs = new HashSet<>();
        float[] d = c.directions();
        for (int j = 0; j < c.count(); j++) {
            int sum = 0, parity = Math.floorMod(p[j * 8], 2);
            long nn = 0;
            for (int i = 0; i < 8; i++) {
                int y = p[j * 8 + i];
                assertEquals(parity, Math.floorMod(y, 2), "all coordinates integer or all half-integer");
                sum += y;
                nn += (long) y * y;
            }
            assertEquals(0, Math.floorMod(sum, 4), "even coordinate sum");
            assertTrue(nn <= 32);
            StringBuilder key = new StringBuilder();
            double dn = 0;
            for (int i = 0; i < 8; i++) {
                key.append(d[j * 8 + i]).append(',');
                dn += d[j * 8 + i] * d[j * 8 + i];
            }
            assertEquals(1.0, dn, 1e-6);
            assertTrue(dirs.add(key.toString()), "directions are distinct");
        }
    }

    @Test
    void d4AndSelectionOfTheRadius() {
        assertEquals(24, LatticeCandidates.withinNorm2(4, 2).count()); // the 24-cell
        LatticeCandidates c = LatticeCandidates.atLeast(4, 1000);
        assertTrue(c.count() >= 1000);
        assertTrue(LatticeCandidates.withinNorm2(4, c.maxNorm2() - 2).count() < 1000, "smallest radius that suffices");
        assertEquals("E8", LatticeCandidates.latticeName(8));
        assertEquals("D6", LatticeCandidates.latticeName(6));
    }
}
