package io.quantmesh.core.model.moe;

import io.quantmesh.core.ops.Activations;

/**
 * Top-k softmax routing, the rule all three styles share: probabilities = softmax over all experts of the router
 * logits; keep the k largest; optionally divide the kept k by their sum.
 *
 * <p>Selection order, which HF leaves to {@code torch.topk}: the k experts come out by descending probability, and
 * equal probabilities are broken by the lower expert index (so an all-tied router picks experts 0..k−1). A NaN
 * probability never beats a number. The renormalising sum adds the k weights in that order, in float, as HF sums
 * float32 routing weights; DeepSeek's extra +1e-20 in the denominator is left out because it cannot change a float
 * sum that is at least 1/E.
 */
public final class Router {
    private final int numExperts;
    private final int topK;
    private final boolean renormalise;

    public Router(int numExperts, int topK, boolean renormalise) {
        if (numExperts < 1 || topK < 1 || topK > numExperts) {
            throw new IllegalArgumentException("need 1 <= k <= experts, got k=" + topK + ", experts=" + numExperts);
        }
        this.numExperts = numExperts;
        this.topK = topK;
        this.renormalise = renormalise;
    }

    public static Router of(MoeConfig c) {
        return new Router(c.numExperts(), c.topK(), c.renormalises());
    }

    public int numExperts() {
        return numExperts;
    }

    public int topK() {
        return topK;
    }

    public boolean renormalises() {
        return renormalise;
    }

    /** Strictly more probable; a number beats NaN. */
    private static boolean beats(float p, float q) {
        return p > q || Float.isNaN(q) && !Float.isNaN(p);
    }

    /**
     * Routes one token. {@code scores[off .. off+E)} holds its router logits and is replaced by their softmax;
     * the chosen experts and their weights go to {@code ids[out .. out+k)} and {@code weights[out .. out+k)}.
     */
    public void route(float[] scores, int off, int[] ids, float[] weights, int out) {
        Activations.softmax(scores, off, numExperts);
        int size = 0;
        for (int e = 0; e < numExperts; e++) {
            float p = scores[off + e];
            if (size == topK && !beats(p, weights[out + topK - 1])) continue;
            // Insert after every kept entry with probability >= p: equal ones keep their lower index first.
            int i = Math.min(size, topK - 1);
            while (i > 0 && beats(p, weights[out + i - 1])) {
                weights[out + i] = weights[out + i - 1];
                ids[out + i] = ids[out + i - 1];
                i--;
            }
            weights[out + i] = p;
            ids[out + i] = e;
            if (size < topK) size++;
        }
        if (!renormalise) return;
        float sum = 0f;
        for (int j = 0; j < topK; j++) sum += weights[out + j];
        for (int j = 0; j < topK; j++) weights[out + j] /= sum;
    }
}
