package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import org.junit.jupiter.api.Test;

class PolarCodebookTest {
    @Test
    void sameKeyRebuildsIdenticallyOnAnyThreadCount() {
        PolarKey key = new PolarKey(8, 10, 2, 42, 1);
        PolarCodebook one = PolarCodebook.build(key, Parallel.ofThreads(1), Cancellation.NONE);
        PolarCodebook two;
        try (Parallel p = Parallel.ofThreads(2)) {
            two = PolarCodebook.build(key, p, Cancellation.NONE);
        }
        assertArrayEquals(one.directions(), two.directions());
        assertArrayEquals(one.latticePoints(), two.latticePoints());
        assertArrayEquals(one.magnitudes(), two.magnitudes());
        assertEquals(one.metadata(), two.metadata());
        PolarCodebook other = PolarCodebook.build(new PolarKey(8, 10, 2, 43, 1), Parallel.common(), Cancellation.NONE);
        assertTrue(!java.util.Arrays.equals(one.latticePoints(), other.latticePoints()), "the seed picks the start");
    }

    @Test
    void codebookQuantizesGaussianVectorsWell() {
        // a = 12, b = 2, k = 8: 1.75 bits per dimension; rate-distortion bound 2^-3.5 = 0.088
        PolarCodebook cb = PolarCodebook.build(new PolarKey(8, 12, 2, 0, 1), Parallel.common(), Cancellation.NONE);
        assertEquals(1 << 12, cb.directions().length / 8);
        PolarCodec codec = cb.codec();
        int n = 20000;
        float[] x = new SeededGaussian(7).gaussians(n * 8);
        float[] y = codec.decode(codec.encode(x, n), n);
        double e = 0;
        for (int i = 0; i < x.length; i++) e += (x[i] - y[i]) * (x[i] - y[i]);
        double mse = e / x.length;
        assertTrue(mse > 0.088 && mse < 0.15, "mse " + mse); // measured 0.1407
    }

    @Test
    void smallerVectorSizesAndKeys() {
        for (int k : new int[] {4, 6}) {
            PolarCodebook cb = PolarCodebook.build(new PolarKey(k, 8, 1, 0, 1), Parallel.common(), Cancellation.NONE);
            assertEquals((1 << 8) * k, cb.directions().length);
            assertEquals("D" + k, cb.metadata().get("lattice"));
        }
        PolarKey key = new PolarKey(8, 14, 2, 0, 1);
        assertEquals("polar-k8-a14-b2-s0-v1", key.id());
        assertEquals(key, PolarKey.parse(key.id()));
        assertEquals(2.0, key.bitsPerWeight());
        assertThrows(IllegalArgumentException.class, () -> new PolarKey(8, 30, 2, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new PolarKey(0, 14, 2, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> new PolarKey(8, 14, 2, 0, 99));
        assertThrows(IllegalArgumentException.class, () -> PolarKey.parse("polar-k8"));
    }

    @Test
    void prunedSearchEqualsNaiveOnARealE8CodebookWithTies() {
        PolarCodebook cb = PolarCodebook.build(new PolarKey(8, 11, 2, 3, 1), Parallel.common(), Cancellation.NONE);
        PolarCodec codec = cb.codec();
        int n = codec.directionCount(), q = 12000;
        float[] x = new SeededGaussian(11).gaussians(q * 8);
        float[] d = cb.directions();
        int[] pts = cb.latticePoints();
        SeededGaussian r = new SeededGaussian(12);
        for (int t = 0; t < q; t += 3) {
            int i = r.nextInt(n), j = r.nextInt(n);
            for (int c = 0; c < 8; c++) {
                // midpoints of two directions tie exactly between them; raw lattice points are ties-prone integers
                x[t * 8 + c] = t % 2 == 0 ? d[i * 8 + c] + d[j * 8 + c] : pts[i * 8 + c];
            }
        }
        int[] naive = codec.encode(x, q, PolarCodec.Search.NAIVE, Parallel.common());
        assertArrayEquals(naive, codec.encode(x, q, PolarCodec.Search.VECTOR, Parallel.common()));
        assertArrayEquals(naive, codec.encode(x, q, PolarCodec.Search.PRUNED, Parallel.common()));
    }
}
