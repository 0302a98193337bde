package io.quantmesh.core.model.llama;

import io.quantmesh.core.checkpoint.TensorSource;
import io.quantmesh.core.config.LlamaConfig;
import io.quantmesh.core.tokenizer.Tokenizer;

/**
 * A Llama-family decoder (Llama 1/2/3, TinyLlama, llama2.c models): RMSNorm, rotate-half RoPE, grouped-query
 * attention with a KV cache, SwiGLU MLP, tied or separate LM head. The forward pass is {@link DecoderModel}'s;
 * this class supplies the dense SwiGLU MLP block.
 */
public final class LlamaModel extends DecoderModel {
    private final LlamaWeights w;

    /** @param owner closed with the model (e.g. the mapped checkpoint the weights view); may be null */
    public LlamaModel(LlamaWeights weights, Tokenizer tokenizer, AutoCloseable owner) {
        super(weights.config(), weights.embedTokens(), weights.norm(), weights.lmHead(),
                weights.layers().stream().map(LlamaWeights.Layer::attention).toList(),
                weights.layers().stream().map(LlamaWeights.Layer::postAttentionLayernorm).toList(), tokenizer, owner);
        this.w = weights;
    }

    /** Loads a Hugging Face Llama checkpoint; the model keeps it mapped and closes it on {@link #close()}. */
    public static LlamaModel load(TensorSource checkpoint, Tokenizer tokenizer) {
        LlamaConfig config = LlamaConfig.fromJson(checkpoint.config());
        return new LlamaModel(LlamaWeights.load(config, checkpoint::tensor), tokenizer, checkpoint);
    }

    public LlamaConfig config() {
        return c;
    }

    public LlamaWeights weights() {
        return w;
    }

    @Override
    public String family() {
        return "llama";
    }

    /** SwiGLU MLP block. */
    @Override
    protected void mlp(int layer, State s, float[] xb, int n, int pos0, float[] out) {
        FeedForward mlp = w.layers().get(layer).mlp();
        float[] hidden = mlp.apply(xb, n, out, attention.pool());
        if (s.linearInputs != null) {
            s.linearInputs.onInput(layer, LinearInputListener.Site.MLP_IN, xb, n, c.hiddenSize());
            s.linearInputs.onInput(layer, LinearInputListener.Site.DOWN_PROJ, hidden, n, mlp.intermediateSize());
        }
    }
}
