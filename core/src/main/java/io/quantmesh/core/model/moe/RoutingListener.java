package io.quantmesh.core.model.moe;

/**
 * Observes routing during a forward pass, for calibration (MoEQuant's EBSS counts, AGQ's affinity-weighted
 * Hessians H_e = (2/n) Σ_t c_{t,e} x_t x_tᵀ) and for {@code quantmesh inspect --routing}. Set one on a
 * {@link MoeModel.State}; with none set the forward pass builds no events at all.
 *
 * <p>Calls happen on the thread running the forward pass, in layer order, once per sparse layer per block of
 * tokens (a prefill block, or one decode step). The arrays an event exposes are the forward pass's own buffers:
 * read them during the call and copy what you keep.
 */
public interface RoutingListener {

    /** One sparse layer's routing of a block of tokens, before its experts run. */
    void onRouting(RoutingEvent event);

    /** Whether to also receive {@link #onExpertHidden} (costs nothing when false, the default). */
    default boolean wantsExpertHidden() {
        return false;
    }

    /**
     * After one expert ran on the tokens routed to it: their hidden activations {@code silu(gate·x) ⊙ up·x}, the
     * input of the expert's down projection (what AGQ needs for that matrix's Hessian).
     */
    default void onExpertHidden(ExpertActivations activations) {}
}
