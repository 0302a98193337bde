package io.quantmesh.core.ops;

/**
 * Element-wise nonlinearities. Scalar on purpose: they are O(width) per token (noise next to the matmuls), and
 * {@link Math#exp} gives the same bits in every JIT tier, which the Vector API's EXP does not promise.
 */
public final class Activations {
    private Activations() {}

    /** In-place softmax of {@code x[off .. off+n)}: max-shifted, summed in double. */
    public static void softmax(float[] x, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, x[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) {
            float e = (float) Math.exp(x[off + i] - max);
            x[off + i] = e;
            sum += e;
        }
        float inv = (float) (1.0 / sum);
        for (int i = 0; i < n; i++) x[off + i] *= inv;
    }

    /** SwiGLU gate: {@code gate[i] = silu(gate[i]) · up[i]}, silu(x) = x·σ(x). */
    public static void siluMul(float[] gate, float[] up, int n) {
        for (int i = 0; i < n; i++) {
            float g = gate[i];
            gate[i] = (float) (g / (1.0 + Math.exp(-g))) * up[i];
        }
    }

    /** log Σ exp(logits): max-shifted, in double. */
    public static double logSumExp(float[] logits, int off, int n) {
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) max = Math.max(max, logits[off + i]);
        double sum = 0;
        for (int i = 0; i < n; i++) sum += Math.exp((double) logits[off + i] - max);
        return max + Math.log(sum);
    }
}
