package io.quantmesh.core.model.llama;

import io.quantmesh.core.ops.Matrix;

/**
 * One layer's pre-norm attention weights, the part every Llama-style family (dense Llama, Mixtral, Qwen2-MoE,
 * DeepSeekMoE) shares. Shapes [out, in] as in torch.nn.Linear.
 */
public record AttentionWeights(
        float[] inputLayernorm, // model.layers.N.input_layernorm.weight  [hidden]
        Matrix qProj,           // model.layers.N.self_attn.q_proj.weight [heads*headDim, hidden]
        Matrix kProj,           // model.layers.N.self_attn.k_proj.weight [kvHeads*headDim, hidden]
        Matrix vProj,           // model.layers.N.self_attn.v_proj.weight [kvHeads*headDim, hidden]
        Matrix oProj,           // model.layers.N.self_attn.o_proj.weight [hidden, heads*headDim]
        float[] qBias,          // model.layers.N.self_attn.q_proj.bias   [heads*headDim]   (Qwen2 only; else null)
        float[] kBias,          // model.layers.N.self_attn.k_proj.bias   [kvHeads*headDim] (Qwen2 only; else null)
        float[] vBias) {        // model.layers.N.self_attn.v_proj.bias   [kvHeads*headDim] (Qwen2 only; else null)

    /** Without q/k/v biases (Llama, Mixtral, DeepSeek). */
    public AttentionWeights(float[] inputLayernorm, Matrix qProj, Matrix kProj, Matrix vProj, Matrix oProj) {
        this(inputLayernorm, qProj, kProj, vProj, oProj, null, null, null);
    }

    public AttentionWeights {
        if ((qBias == null) != (kBias == null) || (kBias == null) != (vBias == null)) {
            throw new IllegalArgumentException("q/k/v biases come together or not at all");
        }
    }

    public boolean hasBias() {
        return qBias != null;
    }
}
