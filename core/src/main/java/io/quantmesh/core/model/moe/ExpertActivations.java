package io.quantmesh.core.model.moe;

/**
 * The hidden activations of one expert over the tokens of a block routed to it (see
 * {@link RoutingListener#onExpertHidden}). For the shared expert, {@link #expert()} is {@link #SHARED} and the
 * weights are its per-token scale.
 *
 * @param layer    decoder layer index
 * @param expert   expert index, or {@link #SHARED}
 * @param tokens   indices into the block (position = event first position + index), ascending
 * @param weights  the gate weight c_{t,e} of each of those tokens
 * @param hidden   {@code silu(gate·x) ⊙ up·x}, {@code [tokens.length * width]} row-major
 * @param width    the expert's intermediate size
 */
public record ExpertActivations(int layer, int expert, int[] tokens, float[] weights, float[] hidden, int width) {
    public static final int SHARED = -1;
}
