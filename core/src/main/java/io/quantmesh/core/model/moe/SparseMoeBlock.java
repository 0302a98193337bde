package io.quantmesh.core.model.moe;

import io.quantmesh.core.model.llama.FeedForward;
import io.quantmesh.core.ops.KernelPool;
import io.quantmesh.core.ops.VectorMatmul;
import io.quantmesh.core.ops.VectorMath;

import java.util.Arrays;

/**
 * The expert half of a sparse layer: route each token, run every chosen expert on the tokens routed to it, sum
 * {@code c_{t,e} · expert_e(x_t)} over the token's experts, then add the shared expert (scaled by its sigmoid gate
 * for Qwen2-MoE, by 1 for DeepSeekMoE).
 *
 * <p>Tokens of a block are grouped by expert, so each expert's weights are read once per block. A token's
 * contributions are added in ascending expert index whatever the block, and each expert gives a token the same
 * bits whatever else is in its group (the matmul is block-invariant), so a prefill equals repeated decode steps
 * bit for bit.
 */
final class SparseMoeBlock {
    private final MoeConfig c;
    private final Router router;
    private final KernelPool pool;

    SparseMoeBlock(MoeConfig c, KernelPool pool) {
        this.c = c;
        this.router = c.numExperts() > 0 ? Router.of(c) : null;
        this.pool = pool;
    }

    /** {@code out[t] = MoE(xb[t])} for the n tokens at positions pos0..; tells {@code listener} (may be null). */
    void forward(int layer, MoeWeights.Layer L, float[] xb, int n, float[] out, int pos0, RoutingListener listener) {
        int experts = c.numExperts(), k = c.topK(), dim = c.base().hiddenSize();
        float[] scores = new float[n * experts];
        VectorMatmul.matmul(L.router(), xb, n, scores, pool);
        int[] ids = new int[n * k];
        float[] weights = new float[n * k];
        for (int t = 0; t < n; t++) router.route(scores, t * experts, ids, weights, t * k);
        float[] sharedScale = L.shared() == null ? null : sharedScale(L, xb, n);
        if (listener != null) {
            listener.onRouting(new RoutingEvent(layer, pos0, n, experts, k, dim, ids, weights, scores, sharedScale, xb));
        }
        boolean wantHidden = listener != null && listener.wantsExpertHidden();

        // Counting sort of the (token, slot) pairs i = t*k + j by expert; within an expert, tokens stay ascending.
        int[] start = new int[experts + 1];
        for (int id : ids) start[id + 1]++;
        for (int e = 0; e < experts; e++) start[e + 1] += start[e];
        int[] next = Arrays.copyOf(start, experts);
        int[] pairs = new int[n * k];
        for (int i = 0; i < n * k; i++) pairs[next[ids[i]]++] = i;

        Arrays.fill(out, 0, n * dim, 0f);
        for (int e = 0; e < experts; e++) {
            int m = start[e + 1] - start[e];
            if (m == 0) continue;
            float[] in = new float[m * dim], eo = new float[m * dim];
            for (int r = 0; r < m; r++) System.arraycopy(xb, pairs[start[e] + r] / k * dim, in, r * dim, dim);
            FeedForward expert = L.experts().get(e);
            float[] hidden = expert.apply(in, m, eo, pool);
            for (int r = 0; r < m; r++) {
                int i = pairs[start[e] + r];
                VectorMath.axpy(weights[i], eo, r * dim, out, i / k * dim, dim);
            }
            if (wantHidden) {
                int[] tokens = new int[m];
                float[] gates = new float[m];
                for (int r = 0; r < m; r++) {
                    tokens[r] = pairs[start[e] + r] / k;
                    gates[r] = weights[pairs[start[e] + r]];
                }
                listener.onExpertHidden(new ExpertActivations(layer, e, tokens, gates, hidden, expert.intermediateSize()));
            }
        }
        if (L.shared() != null) {
            float[] so = new float[n * dim];
            float[] hidden = L.shared().apply(xb, n, so, pool);
            for (int t = 0; t < n; t++) VectorMath.axpy(sharedScale[t], so, t * dim, out, t * dim, dim);
            if (wantHidden) {
                int[] tokens = new int[n];
                Arrays.setAll(tokens, t -> t);
                listener.onExpertHidden(new ExpertActivations(layer, ExpertActivations.SHARED, tokens,
                        sharedScale.clone(), hidden, L.shared().intermediateSize()));
            }
        }
    }

    /** Qwen2-MoE: sigmoid(shared_expert_gate · x_t); DeepSeekMoE: 1 (its shared experts are always on, unscaled). */
    private float[] sharedScale(MoeWeights.Layer L, float[] xb, int n) {
        float[] g = new float[n];
        if (L.sharedGate() == null) {
            Arrays.fill(g, 1f);
            return g;
        }
        VectorMatmul.matmul(L.sharedGate(), xb, n, g, pool);
        for (int t = 0; t < n; t++) g[t] = (float) (1.0 / (1.0 + Math.exp(-g[t])));
        return g;
    }
}
