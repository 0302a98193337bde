package io.quantmesh.core.ops;

import io.quantmesh.core.tensor.DType;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.util.SplittableRandom;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.fail;

class MatmulTwinTest {
    private static final KernelPool ONE = new KernelPool(1);
    private static final KernelPool THREE = new KernelPool(3);
    private static final int[] COLS = {1, 3, 15, 16, 17, 31, 33, 64, 100, 257};
    private static final int[] TOKENS = {1, 3, 4, 5, 9};

    @AfterAll
    static void close() {
        ONE.close();
        THREE.close();
    }

    static float[] random(SplittableRandom rnd, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float) (rnd.nextDouble() * 2 - 1);
        return a;
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void vectorMatchesReference(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(42);
        for (int cols : COLS) {
            for (int tokens : TOKENS) {
                int rows = 37;
                Matrix w = Matrix.ofFloats(random(rnd, rows * cols), rows, cols, dtype);
                float[] x = random(rnd, tokens * cols);
                float[] got = new float[tokens * rows], want = new float[tokens * rows];
                VectorMatmul.matmul(w, x, tokens, got, THREE);
                ReferenceMatmul.matmul(w, x, tokens, want, ONE);
                for (int i = 0; i < got.length; i++) {
                    // Different summation orders: bound the error by the magnitude of the terms.
                    double tol = 1e-6 * cols + 1e-6;
                    if (Math.abs(got[i] - want[i]) > tol) {
                        fail(dtype + " cols=" + cols + " tokens=" + tokens + " i=" + i + ": " + got[i] + " vs " + want[i]);
                    }
                }
            }
        }
    }

    @ParameterizedTest
    @EnumSource(value = DType.class, names = {"F32", "BF16", "F16"})
    void batchedIsBitIdenticalToOneTokenAtATimeAndToThreadCount(DType dtype) {
        SplittableRandom rnd = new SplittableRandom(7);
        for (int cols : COLS) {
            int rows = 53, tokens = 11;
            Matrix w = Matrix.ofFloats(random(rnd, rows * cols), rows, cols, dtype);
            float[] x = random(rnd, tokens * cols);
            float[] batched = new float[tokens * rows];
            VectorMatmul.matmul(w, x, tokens, batched, THREE);
            for (int t = 0; t < tokens; t++) {
                float[] xt = new float[cols], one = new float[rows];
                System.arraycopy(x, t * cols, xt, 0, cols);
                VectorMatmul.matmul(w, xt, 1, one, ONE);
                for (int r = 0; r < rows; r++) {
                    assertEquals(Float.floatToRawIntBits(one[r]), Float.floatToRawIntBits(batched[t * rows + r]),
                            dtype + " cols=" + cols + " t=" + t + " r=" + r);
                }
            }
        }
    }

    @Test
    void bf16AndF16WeightsAreReadAsTheirRoundedValues() {
        SplittableRandom rnd = new SplittableRandom(3);
        int rows = 9, cols = 70;
        float[] values = random(rnd, rows * cols);
        float[] x = random(rnd, cols);
        for (DType dt : new DType[] {DType.BF16, DType.F16}) {
            Matrix narrow = Matrix.ofFloats(values, rows, cols, dt);
            float[] widened = new float[rows * cols];
            for (int r = 0; r < rows; r++) narrow.copyRow(r, widened, r * cols);
            float[] a = new float[rows], b = new float[rows];
            VectorMatmul.matvec(narrow, x, a);
            VectorMatmul.matmul(Matrix.ofFloats(widened, rows, cols), x, 1, b, ONE);
            assertArrayEquals(b, a, dt.toString());
        }
    }

    @Test
    void rejectsShortBuffers() {
        Matrix w = Matrix.ofFloats(new float[12], 3, 4);
        assertThrows(IllegalArgumentException.class, () -> VectorMatmul.matvec(w, new float[3], new float[3]));
        assertThrows(IllegalArgumentException.class, () -> VectorMatmul.matmul(w, new float[8], 2, new float[5]));
    }
}
