package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;

/** The Vector API kernels against their plain-Java twin, plus the defining properties of the recurrences. */
class RwkvKernelsTest {
    private static final RwkvKernels VEC = RwkvKernels.vector(), REF = RwkvKernels.reference();

    private static float[] random(Random rnd, int n, double scale) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (scale * (2 * rnd.nextDouble() - 1));
        return v;
    }

    private static void assertClose(float[] want, float[] got, double rel, String what) {
        double scale = 1e-3;
        for (float v : want) scale = Math.max(scale, Math.abs(v));
        for (int i = 0; i < want.length; i++) {
            assertEquals(want[i], got[i], rel * scale, what + " at " + i);
        }
    }

    @Test
    void matmulMatchesReference() {
        Random rnd = new Random(11);
        int[][] shapes = {{1, 64, 64}, {5, 64, 256}, {3, 256, 64}, {4, 64, 32}, {7, 37, 53}, {2, 3, 1}, {6, 16, 100}};
        for (int[] s : shapes) {
            int rows = s[0], in = s[1], out = s[2];
            float[] x = random(rnd, rows * in, 1), wt = random(rnd, in * out, 0.5);
            float[] a = new float[rows * out], b = new float[rows * out];
            REF.matmul(x, rows, in, wt, out, a);
            VEC.matmul(x, rows, in, wt, out, b);
            assertClose(a, b, 1e-5, "matmul " + rows + "x" + in + "x" + out);
            // each row alone gives the same bits as inside the batch
            for (int r = 0; r < rows; r++) {
                float[] one = new float[out];
                VEC.matmul(java.util.Arrays.copyOfRange(x, r * in, (r + 1) * in), 1, in, wt, out, one);
                assertArrayEquals(java.util.Arrays.copyOfRange(b, r * out, (r + 1) * out), one, 0f);
            }
        }
    }

    @Test
    void wkv5MatchesReferenceOverSteps() {
        Random rnd = new Random(12);
        for (int n : new int[] {8, 16, 64, 20}) {
            float[] s1 = new float[3 + n * n], s2 = new float[3 + n * n];
            float[] w = new float[n + 2], u = random(rnd, n + 1, 1);
            for (int i = 0; i < w.length; i++) w[i] = 0.5f + 0.5f * rnd.nextFloat();
            for (int t = 0; t < 5; t++) {
                float[] r = random(rnd, n + 4, 1), k = random(rnd, n + 4, 1), v = random(rnd, n + 4, 1);
                float[] o1 = new float[n + 4], o2 = new float[n + 4];
                REF.wkv5(s1, 3, r, k, v, o1, 4, w, 2, u, 1, n);
                VEC.wkv5(s2, 3, r, k, v, o2, 4, w, 2, u, 1, n);
                assertClose(o1, o2, 1e-5, "wkv5 out n=" + n);
                assertClose(s1, s2, 1e-5, "wkv5 state n=" + n);
            }
        }
    }

    /** out_j = sum_i r_i (u_i k_i v_j + s_ij), s_ij = w_i s_ij + k_i v_j, checked by hand for N = 2. */
    @Test
    void wkv5FollowsTheRecurrence() {
        float[] s = {1, 2, 3, 4}, r = {1, 2}, k = {3, 5}, v = {7, 11}, w = {0.5f, 0.25f}, u = {2, 3}, out = new float[2];
        for (RwkvKernels kern : new RwkvKernels[] {VEC, REF}) {
            float[] st = s.clone();
            kern.wkv5(st, 0, r, k, v, out, 0, w, 0, u, 0, 2);
            // j=0: r0 (u0 k0 v0 + s00) + r1 (u1 k1 v0 + s10) = (2*3*7 + 1) + 2 (3*5*7 + 3) = 43 + 216
            assertArrayEquals(new float[] {259, 2 * 3 * 11 + 2 + 2 * (3 * 5 * 11 + 4)}, out, 0f);
            assertArrayEquals(new float[] {0.5f + 21, 1 + 33, 0.75f + 35, 1 + 55}, st, 0f);
        }
    }

    @Test
    void wkv7MatchesReferenceOverSteps() {
        Random rnd = new Random(13);
        for (int n : new int[] {64, 16, 20}) {
            float[] s1 = new float[n * n + 5], s2 = new float[n * n + 5];
            for (int t = 0; t < 6; t++) {
                float[] r = random(rnd, n + 2, 1), k = random(rnd, n + 2, 1), v = random(rnd, n + 2, 1);
                float[] a = random(rnd, n + 2, 0.2), b = random(rnd, n + 2, 0.2), w = new float[n + 2];
                for (int i = 0; i < w.length; i++) w[i] = 0.6f + 0.4f * rnd.nextFloat();
                float[] o1 = new float[n + 2], o2 = new float[n + 2], tmp = new float[n + 2];
                REF.wkv7(s1, 5, r, w, k, v, a, b, o1, 2, tmp, n);
                VEC.wkv7(s2, 5, r, w, k, v, a, b, o2, 2, tmp, n);
                assertClose(o1, o2, 1e-5, "wkv7 out n=" + n);
                assertClose(s1, s2, 1e-5, "wkv7 state n=" + n);
            }
        }
    }

    /**
     * The delta rule: with decay 1, a = -kk, b = kk (in-context learning rate 1) and a unit key kk, writing (kk, v)
     * makes the state map kk to v, replacing whatever it mapped kk to before; reading with r = kk returns v.
     */
    @Test
    void wkv7WritesByTheDeltaRule() {
        Random rnd = new Random(14);
        int n = 64;
        float[] kk = random(rnd, n, 1);
        double norm = 0;
        for (float f : kk) norm += f * f;
        for (int i = 0; i < n; i++) kk[i] /= (float) Math.sqrt(norm);
        float[] minusKk = new float[n], ones = new float[n];
        for (int i = 0; i < n; i++) {
            minusKk[i] = -kk[i];
            ones[i] = 1;
        }
        for (RwkvKernels kern : new RwkvKernels[] {VEC, REF}) {
            float[] s = random(rnd, n * n, 1); // some prior memory
            for (int step = 0; step < 3; step++) {
                float[] v = random(rnd, n, 1), out = new float[n], tmp = new float[n];
                kern.wkv7(s, 0, kk, ones, kk, v, minusKk, kk, out, 0, tmp, n);
                assertClose(v, out, 1e-5, kern.getClass().getSimpleName() + " retrieval step " + step);
            }
        }
    }

    @Test
    void activationsMatchReference() {
        float[] x = new float[4003];
        for (int i = 0; i < x.length; i++) x[i] = -100 + 200f * i / (x.length - 1);
        x[17] = 0;
        x[18] = 1e-6f;
        x[19] = -3e-3f;
        float[] small = new float[1000];
        for (int i = 0; i < small.length; i++) small[i] = -4 + 8f * i / (small.length - 1);

        float[] a = x.clone(), b = x.clone();
        REF.exp(a, a.length);
        VEC.exp(b, b.length);
        for (int i = 0; i < x.length; i++) {
            if (x[i] > -87 && x[i] < 88) assertEquals(a[i], b[i], 3e-7 * a[i], "exp(" + x[i] + ")");
            else assertTrue(b[i] >= 0 && Float.isFinite(b[i]), "exp(" + x[i] + ") = " + b[i]);
        }
        a = x.clone();
        b = x.clone();
        REF.sigmoid(a, a.length);
        VEC.sigmoid(b, b.length);
        for (int i = 0; i < x.length; i++) assertEquals(a[i], b[i], 3e-7 * Math.max(a[i], 1e-30) + 1e-38, "sigmoid(" + x[i] + ")");
        for (float[] in : new float[][] {x, small}) {
            a = in.clone();
            b = in.clone();
            REF.tanh(a, a.length);
            VEC.tanh(b, b.length);
            for (int i = 0; i < in.length; i++) assertEquals(a[i], b[i], 4e-7 * Math.abs(a[i]) + 1e-7, "tanh(" + in[i] + ")");
        }
    }

    /** Vector lanes and the scalar tail run the same IEEE steps: no JIT tier or batch width changes a bit. */
    @Test
    void vectorLanesEqualScalarSteps() {
        float[] x = new float[1000];
        for (int i = 0; i < x.length; i++) x[i] = -30 + 60f * i / x.length;
        float[] e = x.clone(), t = x.clone();
        VEC.exp(e, e.length);
        VEC.tanh(t, t.length);
        for (int i = 0; i < x.length; i++) {
            assertEquals(Float.floatToIntBits(VectorRwkvKernels.exp(x[i])), Float.floatToIntBits(e[i]), "exp " + x[i]);
            assertEquals(Float.floatToIntBits(VectorRwkvKernels.tanh(x[i])), Float.floatToIntBits(t[i]), "tanh " + x[i]);
        }
    }
}
