package io.quantmesh.core.ops;

/** Plain-Java twin of {@link VectorMath}. */
public final class ReferenceMath {
    private ReferenceMath() {}

    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        float s = 0f;
        for (int i = 0; i < n; i++) s += a[ao + i] * b[bo + i];
        return s;
    }

    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        for (int i = 0; i < n; i++) y[yo + i] += alpha * x[xo + i];
    }

    public static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] weight, int n, float eps) {
        float ss = 0f;
        for (int i = 0; i < n; i++) ss += x[xo + i] * x[xo + i];
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        for (int i = 0; i < n; i++) out[oo + i] = x[xo + i] * scale * weight[i];
    }
}
