package io.quantmesh.core.model.llama;

import java.util.List;

/**
 * Observes the inputs of a decoder's linear layers during a forward pass, for calibration (GPTQ's
 * H = (2/n) Σ x xᵀ per linear input). Set one on a {@link DecoderModel.State}; with none set the forward pass
 * makes no calls at all.
 *
 * <p>Calls happen on the thread running the forward pass, in layer order, once per site per block of tokens. The
 * array is the forward pass's own buffer: read rows {@code x[t*width .. (t+1)*width)} for {@code t < n} during
 * the call and copy what you keep.
 */
@FunctionalInterface
public interface LinearInputListener {

    /** Where in a layer an input is observed: the linear layers that read it, under their Hugging Face names. */
    enum Site {
        /** input_layernorm output, read by q, k and v. */
        ATTN_IN("self_attn", "q_proj", "k_proj", "v_proj"),
        /** attention output (heads concatenated), read by o_proj. */
        O_PROJ("self_attn", "o_proj"),
        /** post_attention_layernorm output, read by the dense MLP's gate and up. */
        MLP_IN("mlp", "gate_proj", "up_proj"),
        /** silu(gate·x) ⊙ up·x, read by down_proj. */
        DOWN_PROJ("mlp", "down_proj");

        private final String module;
        private final List<String> linears;

        Site(String module, String... linears) {
            this.module = module;
            this.linears = List.of(linears);
        }

        /** The submodule of {@code model.layers.N} holding the linears ("self_attn", "mlp"). */
        public String module() {
            return module;
        }

        /** The linear layers fed by this input, e.g. [q_proj, k_proj, v_proj]. */
        public List<String> linears() {
            return linears;
        }
    }

    /** {@code n} rows of width {@code width}: the input of {@code site}'s linears in decoder layer {@code layer}. */
    void onInput(int layer, Site site, float[] x, int n, int width);
}
