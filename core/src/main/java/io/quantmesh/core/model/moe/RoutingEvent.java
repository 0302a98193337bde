package io.quantmesh.core.model.moe;

/**
 * One sparse layer's routing decision for a block of n consecutive tokens of one sequence (see
 * {@link RoutingListener}). Token t of the block sits at position {@code firstPosition() + t}.
 */
public final class RoutingEvent {
    private final int layer;
    private final int firstPosition;
    private final int size;
    private final int numExperts;
    private final int topK;
    private final int hidden;
    private final int[] experts;
    private final float[] weights;
    private final float[] probabilities;
    private final float[] sharedGate;
    private final float[] input;

    RoutingEvent(int layer, int firstPosition, int size, int numExperts, int topK, int hidden, int[] experts,
                 float[] weights, float[] probabilities, float[] sharedGate, float[] input) {
        this.layer = layer;
        this.firstPosition = firstPosition;
        this.size = size;
        this.numExperts = numExperts;
        this.topK = topK;
        this.hidden = hidden;
        this.experts = experts;
        this.weights = weights;
        this.probabilities = probabilities;
        this.sharedGate = sharedGate;
        this.input = input;
    }

    /** Decoder layer index. */
    public int layer() {
        return layer;
    }

    public int firstPosition() {
        return firstPosition;
    }

    /** Number of tokens in the block. */
    public int size() {
        return size;
    }

    public int numExperts() {
        return numExperts;
    }

    public int topK() {
        return topK;
    }

    /** Width of the expert input rows. */
    public int hidden() {
        return hidden;
    }

    /** The j-th expert (j &lt; k) of token t: descending weight, ties by lower index. */
    public int expert(int t, int j) {
        return experts[t * topK + j];
    }

    /** The gate weight c_{t,e} the model applies to that expert's output (renormalised where the style does). */
    public float weight(int t, int j) {
        return weights[t * topK + j];
    }

    /** The router softmax over all experts for token t: the affinity to expert e before top-k. */
    public float probability(int t, int e) {
        return probabilities[t * numExperts + e];
    }

    /** Whether the layer has a shared expert (its scale per token is {@link #sharedGate}). */
    public boolean hasSharedExpert() {
        return sharedGate != null;
    }

    /** The shared expert's scale for token t: sigmoid(gate·x) for Qwen2-MoE, 1 for DeepSeekMoE. */
    public float sharedGate(int t) {
        return sharedGate[t];
    }

    /** The expert input x_t (the post-attention RMSNorm output), {@code [size * hidden]} row-major. */
    public float[] input() {
        return input;
    }
}
