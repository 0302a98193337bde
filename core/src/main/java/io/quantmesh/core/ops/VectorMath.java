package io.quantmesh.core.ops;

import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.VectorSpecies;

/**
 * Vector API kernels over activation arrays: dot product, axpy, RMSNorm. Same deterministic reduction order as
 * {@link VectorMatmul} (two accumulators, fixed lane sum, scalar tail). Twin: {@link ReferenceMath}.
 */
public final class VectorMath {
    private VectorMath() {}

    private static final VectorSpecies<Float> FS = VectorMatmul.FS;
    private static final int L = VectorMatmul.L;

    /** {@code Σ a[ao+i]·b[bo+i]} for i < n. */
    public static float dot(float[] a, int ao, float[] b, int bo, int n) {
        if (n < L) return tail(a, ao, b, bo, 0, n, 0f); // e.g. head dims below the lane count: skip vector setup
        int upper = FS.loopBound(n);
        FloatVector s0 = FloatVector.zero(FS), s1 = FloatVector.zero(FS);
        int i = 0;
        for (; i + 2 * L <= upper; i += 2 * L) {
            s0 = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), s0);
            s1 = FloatVector.fromArray(FS, a, ao + i + L).fma(FloatVector.fromArray(FS, b, bo + i + L), s1);
        }
        if (i < upper) s0 = FloatVector.fromArray(FS, a, ao + i).fma(FloatVector.fromArray(FS, b, bo + i), s0);
        return tail(a, ao, b, bo, upper, n, VectorMatmul.sumLanes(s0.add(s1)));
    }

    private static float tail(float[] a, int ao, float[] b, int bo, int from, int n, float s) {
        for (int j = from; j < n; j++) s += a[ao + j] * b[bo + j];
        return s;
    }

    /** {@code y[yo+i] += alpha·x[xo+i]} for i < n. */
    public static void axpy(float alpha, float[] x, int xo, float[] y, int yo, int n) {
        int upper = FS.loopBound(n);
        int i = 0;
        if (upper > 0) {
            FloatVector va = FloatVector.broadcast(FS, alpha);
            for (; i < upper; i += L) {
                FloatVector.fromArray(FS, x, xo + i).fma(va, FloatVector.fromArray(FS, y, yo + i)).intoArray(y, yo + i);
            }
        }
        for (; i < n; i++) y[yo + i] = Math.fma(x[xo + i], alpha, y[yo + i]);
    }

    /** {@code out[oo+i] = weight[i] · x[xo+i] / sqrt(mean(x²) + eps)} for i < n (HF LlamaRMSNorm, f32). */
    public static void rmsnorm(float[] out, int oo, float[] x, int xo, float[] weight, int n, float eps) {
        float ss = dot(x, xo, x, xo, n);
        float scale = (float) (1.0 / Math.sqrt(ss / n + eps));
        int upper = FS.loopBound(n);
        int i = 0;
        for (; i < upper; i += L) {
            FloatVector.fromArray(FS, x, xo + i).mul(scale).mul(FloatVector.fromArray(FS, weight, i))
                    .intoArray(out, oo + i);
        }
        for (; i < n; i++) out[oo + i] = x[xo + i] * scale * weight[i];
    }
}
