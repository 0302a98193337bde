package io.quantmesh.core.model.moe;

import com.fasterxml.jackson.databind.JsonNode;

import java.util.Optional;

/**
 * The three Hugging Face MoE layouts the runtime reads. They share Llama attention and differ in the expert block:
 * <ul>
 * <li>{@link #MIXTRAL}: every layer sparse; top-k of a softmax over all experts, renormalised to sum 1;
 *     experts named w1 (gate), w3 (up), w2 (down) under {@code block_sparse_moe}.</li>
 * <li>{@link #QWEN2_MOE}: top-k softmax weights, renormalised only if {@code norm_topk_prob}; plus one shared
 *     expert whose output is scaled by {@code sigmoid(shared_expert_gate · x)}; q/k/v projections carry biases.</li>
 * <li>{@link #DEEPSEEK_MOE}: DeepSeekMoE v1 (deepseek-moe-16b): many fine-grained routed experts, top-k softmax
 *     weights (renormalised only if {@code norm_topk_prob} and k &gt; 1), plus always-on shared experts fused into
 *     one MLP; the first {@code first_k_dense_replace} layers (and layers off {@code moe_layer_freq}) are dense.</li>
 * </ul>
 */
public enum MoeStyle {
    MIXTRAL("mixtral", "mixtral", "MixtralForCausalLM"),
    QWEN2_MOE("qwen2_moe", "qwen2_moe", "Qwen2MoeForCausalLM"),
    DEEPSEEK_MOE("deepseek_moe", "deepseek", "DeepseekForCausalLM");

    private final String family;
    private final String modelType;
    private final String architecture;

    MoeStyle(String family, String modelType, String architecture) {
        this.family = family;
        this.modelType = modelType;
        this.architecture = architecture;
    }

    /** {@link io.quantmesh.core.model.LanguageModel#family()} of models of this style. */
    public String family() {
        return family;
    }

    /** config.json {@code model_type}. */
    public String modelType() {
        return modelType;
    }

    /** config.json {@code architectures[0]}. */
    public String architecture() {
        return architecture;
    }

    /** The style a config.json declares, by {@code model_type}, else by {@code architectures}. */
    public static Optional<MoeStyle> of(JsonNode config) {
        String type = config.path("model_type").asText("");
        for (MoeStyle s : values()) if (s.modelType.equals(type)) return Optional.of(s);
        if (!type.isEmpty()) return Optional.empty();
        for (JsonNode a : config.path("architectures")) {
            for (MoeStyle s : values()) if (s.architecture.equals(a.asText())) return Optional.of(s);
        }
        return Optional.empty();
    }

    /** Accepts a family name or a model_type, case-insensitively ("mixtral", "qwen2_moe", "deepseek_moe", "deepseek"). */
    public static MoeStyle parse(String name) {
        for (MoeStyle s : values()) {
            if (s.family.equalsIgnoreCase(name) || s.modelType.equalsIgnoreCase(name)) return s;
        }
        throw new IllegalArgumentException("unknown MoE style '" + name + "' (known: mixtral, qwen2_moe, deepseek_moe)");
    }

    // ---- Hugging Face tensor names

    private String block(int layer) {
        return "model.layers." + layer + (this == MIXTRAL ? ".block_sparse_moe." : ".mlp.");
    }

    /** Router weight [experts, hidden]. */
    public String router(int layer) {
        return block(layer) + "gate.weight";
    }

    /** One routed expert's projection; {@code part} is gate, up or down. */
    public String expert(int layer, int expert, String part) {
        String p = block(layer) + "experts." + expert + ".";
        if (this != MIXTRAL) return p + part + "_proj.weight";
        return p + switch (part) {
            case "gate" -> "w1";
            case "down" -> "w2";
            case "up" -> "w3";
            default -> throw new IllegalArgumentException(part);
        } + ".weight";
    }

    /** The shared expert's projection (Qwen2-MoE: shared_expert; DeepSeekMoE: shared_experts). */
    public String shared(int layer, String part) {
        if (this == MIXTRAL) throw new IllegalStateException("Mixtral has no shared expert");
        return block(layer) + (this == QWEN2_MOE ? "shared_expert." : "shared_experts.") + part + "_proj.weight";
    }

    /** Qwen2-MoE's shared-expert gate [1, hidden]. */
    public String sharedGate(int layer) {
        if (this != QWEN2_MOE) throw new IllegalStateException(this + " has no shared expert gate");
        return block(layer) + "shared_expert_gate.weight";
    }
}
