package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.codec.ScalarCodec;
import org.junit.jupiter.api.Test;

class ClipSearchTest {
    @Test
    void clipsAnOutlierOnOneSideOnly() {
        float[] x = new SeededGaussian(4).gaussians(128);
        x[17] = 12f; // one large positive outlier
        for (String name : new String[] {"INT3", "FP4", "NF3"}) {
            ScalarCodec codec = ScalarCodec.named(name);
            ClipSearch.Clip c = ClipSearch.standard().search(codec, x, 0, x.length, null);
            float min = Float.POSITIVE_INFINITY;
            for (float v : x) min = Math.min(min, v);
            double full = 0;
            ScalarCodec.Quantizer q = codec.forRange(min, 12f);
            for (float v : x) full += (v - q.roundTrip(v)) * (v - q.roundTrip(v));
            assertTrue(c.error() <= full, name);
            assertTrue(c.hi() < 12f, name + " clips the outlier's side: " + c);
        }
        // nothing to gain on a group that fits the grid exactly: no clipping
        float[] grid = {-1, 0, 1, 2};
        ClipSearch.Clip none = ClipSearch.standard().search(ScalarCodec.named("INT2"), grid, 0, 4, null);
        assertEquals(-1f, none.lo());
        assertEquals(2f, none.hi());
        assertEquals(0.0, none.error());
    }
}
