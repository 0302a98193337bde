package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.parallel.Parallel;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;

class DirectionSelectorTest {
    @Test
    void vectorKernelMatchesItsTwinOnLatticeAndRandomCandidates() {
        LatticeCandidates e8 = LatticeCandidates.withinNorm2(8, 6);
        float[] dirs = e8.directions();
        int[] naive = DirectionSelector.selectNaive(dirs, e8.count(), 8, 600, 5);
        assertArrayEquals(naive, DirectionSelector.select(dirs, e8.count(), 8, 600, 5, Parallel.ofThreads(1), Cancellation.NONE));
        try (Parallel two = Parallel.ofThreads(2)) {
            assertArrayEquals(naive, DirectionSelector.select(dirs, e8.count(), 8, 600, 5, two, Cancellation.NONE));
        }
        Set<Integer> distinct = new HashSet<>();
        for (int p : naive) distinct.add(p);
        assertEquals(600, distinct.size());
        // the second pick is the antipode of the first (cosine -1 is the smallest possible)
        for (int i = 0; i < 8; i++) assertTrue(-dirs[5 * 8 + i] == dirs[naive[1] * 8 + i]);

        float[] rnd = new SeededGaussian(3).gaussians(3000 * 6);
        float[] unit = new float[rnd.length];
        for (int j = 0; j < 3000; j++) {
            double nn = 0;
            for (int i = 0; i < 6; i++) nn += rnd[j * 6 + i] * rnd[j * 6 + i];
            for (int i = 0; i < 6; i++) unit[j * 6 + i] = (float) (rnd[j * 6 + i] / Math.sqrt(nn));
        }
        assertArrayEquals(DirectionSelector.selectNaive(unit, 3000, 6, 500, 0),
                DirectionSelector.select(unit, 3000, 6, 500, 0, Parallel.common(), Cancellation.NONE));
    }

    @Test
    void cancellationStopsTheSelection() {
        LatticeCandidates e8 = LatticeCandidates.withinNorm2(8, 4);
        org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.CancellationException.class, () ->
                DirectionSelector.select(e8.directions(), e8.count(), 8, 1000, 0, Parallel.common(), () -> {
                    throw new java.util.concurrent.CancellationException("stop");
                }));
    }
}
