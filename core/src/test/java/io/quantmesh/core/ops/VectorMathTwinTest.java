package io.quantmesh.core.ops;

import org.junit.jupiter.api.Test;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertEquals;

class VectorMathTwinTest {
    private static final int[] LENGTHS = {0, 1, 7, 8, 15, 16, 17, 33, 64, 65, 255, 1000};

    @Test
    void dotMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(11);
        for (int n : LENGTHS) {
            float[] a = MatmulTwinTest.random(rnd, n + 5), b = MatmulTwinTest.random(rnd, n + 3);
            assertEquals(ReferenceMath.dot(a, 5, b, 3, n), VectorMath.dot(a, 5, b, 3, n), 1e-6 * n + 1e-7, "n=" + n);
        }
    }

    @Test
    void axpyMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(12);
        for (int n : LENGTHS) {
            float[] x = MatmulTwinTest.random(rnd, n + 2), y = MatmulTwinTest.random(rnd, n + 1);
            float[] y2 = y.clone();
            VectorMath.axpy(0.37f, x, 2, y, 1, n);
            ReferenceMath.axpy(0.37f, x, 2, y2, 1, n);
            for (int i = 0; i < y.length; i++) assertEquals(y2[i], y[i], 1e-6, "n=" + n + " i=" + i);
        }
    }

    @Test
    void rmsnormMatchesReference() {
        SplittableRandom rnd = new SplittableRandom(13);
        for (int n : LENGTHS) {
            if (n == 0) continue;
            float[] x = MatmulTwinTest.random(rnd, n + 4), w = MatmulTwinTest.random(rnd, n);
            float[] a = new float[n + 1], b = new float[n + 1];
            VectorMath.rmsnorm(a, 1, x, 4, w, n, 1e-5f);
            ReferenceMath.rmsnorm(b, 1, x, 4, w, n, 1e-5f);
            for (int i = 0; i < a.length; i++) assertEquals(b[i], a[i], 1e-5, "n=" + n + " i=" + i);
        }
    }

    @Test
    void softmaxSumsToOneAndIsShiftInvariant() {
        float[] x = {1000f, 1001f, 999f, -5f};
        float[] y = {0f, 1f, -1f, -1005f};
        Activations.softmax(x, 0, 4);
        Activations.softmax(y, 0, 4);
        double sum = 0;
        for (int i = 0; i < 4; i++) {
            sum += x[i];
            assertEquals(y[i], x[i], 1e-7);
        }
        assertEquals(1.0, sum, 1e-6);
        assertEquals(Math.log(Math.exp(0) + Math.exp(1) + Math.exp(-1)) + 1000,
                Activations.logSumExp(new float[] {1000f, 1001f, 999f}, 0, 3), 1e-9);
    }
}
