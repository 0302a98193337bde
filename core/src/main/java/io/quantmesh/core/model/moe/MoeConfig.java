package io.quantmesh.core.model.moe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.config.LlamaConfig;

import java.util.ArrayList;
import java.util.List;

import static io.quantmesh.core.config.LlamaConfig.optInt;
import static io.quantmesh.core.config.LlamaConfig.requiredInt;

/**
 * The MoE keys of a Hugging Face {@code config.json}, for the three {@link MoeStyle}s. The attention, norm and
 * vocabulary keys are the Llama ones ({@link #base}); {@code base.intermediateSize()} is the width of the dense
 * MLP of the layers that are not sparse.
 *
 * <p>A sliding window ({@code sliding_window}, for Qwen2-MoE only with {@code use_sliding_window}) is honoured by
 * capping the context length at the window: within it, windowed attention is full attention.
 */
public record MoeConfig(
        MoeStyle style,
        LlamaConfig base,
        int numExperts,              // routed experts per sparse layer: num_local_experts | num_experts | n_routed_experts
        int topK,                    // num_experts_per_tok
        int expertIntermediateSize,  // mixtral: intermediate_size; qwen2_moe, deepseek: moe_intermediate_size
        boolean normTopKProb,        // renormalise the top-k weights (mixtral: always true)
        int sharedIntermediateSize,  // 0: none; qwen2_moe: shared_expert_intermediate_size;
                                     // deepseek: moe_intermediate_size * n_shared_experts
        int decoderSparseStep,       // qwen2_moe: sparse where (layer+1) % step == 0 (else 1)
        List<Integer> mlpOnlyLayers, // qwen2_moe: layers forced dense
        int firstKDenseReplace,      // deepseek: the first k layers are dense
        int moeLayerFreq,            // deepseek: sparse where layer % freq == 0
        boolean qkvBias) {           // qwen2_moe: q/k/v projections carry biases

    /** Sanity bound on the expert count (real models: 8 to 256), so a hostile config cannot demand huge tables. */
    static final int MAX_EXPERTS = 1 << 16;

    public MoeConfig {
        mlpOnlyLayers = List.copyOf(mlpOnlyLayers);
        if (numExperts < 0 || numExperts > MAX_EXPERTS) {
            throw new IllegalArgumentException("config.json: expert count " + numExperts + " out of range [0, " + MAX_EXPERTS + "]");
        }
        if (numExperts > 0) {
            if (topK < 1 || topK > numExperts) {
                throw new IllegalArgumentException("config.json: num_experts_per_tok " + topK + " must be in [1, "
                        + numExperts + "]");
            }
            if (expertIntermediateSize <= 0) {
                throw new IllegalArgumentException("config.json: expert intermediate size must be positive, got "
                        + expertIntermediateSize);
            }
        }
        if (sharedIntermediateSize < 0) throw new IllegalArgumentException("config.json: negative shared expert size");
        if (style == MoeStyle.MIXTRAL && numExperts > 0 && expertIntermediateSize != base.intermediateSize()) {
            throw new IllegalArgumentException("Mixtral experts have width intermediate_size");
        }
        if (sharedIntermediateSize > 0 && style == MoeStyle.MIXTRAL) {
            throw new IllegalArgumentException("Mixtral has no shared expert");
        }
        if (decoderSparseStep < 1 || moeLayerFreq < 1 || firstKDenseReplace < 0) {
            throw new IllegalArgumentException("config.json: decoder_sparse_step and moe_layer_freq must be >= 1, "
                    + "first_k_dense_replace >= 0");
        }
        if (qkvBias && style != MoeStyle.QWEN2_MOE) throw new IllegalArgumentException("q/k/v bias is Qwen2-only here");
    }

    /** Whether decoder layer {@code layer} has routed experts (else a dense MLP of width base.intermediateSize()). */
    public boolean isMoeLayer(int layer) {
        if (numExperts == 0) return false;
        return switch (style) {
            case MIXTRAL -> true;
            case QWEN2_MOE -> !mlpOnlyLayers.contains(layer) && (layer + 1) % decoderSparseStep == 0;
            case DEEPSEEK_MOE -> layer >= firstKDenseReplace && layer % moeLayerFreq == 0;
        };
    }

    public int numMoeLayers() {
        int n = 0;
        for (int l = 0; l < base.numHiddenLayers(); l++) if (isMoeLayer(l)) n++;
        return n;
    }

    public boolean hasSharedExpert() {
        return sharedIntermediateSize > 0;
    }

    /**
     * Whether the router divides the top-k weights by their sum: Mixtral always; Qwen2-MoE if norm_topk_prob;
     * DeepSeekMoE if norm_topk_prob and k &gt; 1 (its gate skips the division for k = 1).
     */
    public boolean renormalises() {
        return switch (style) {
            case MIXTRAL -> true;
            case QWEN2_MOE -> normTopKProb;
            case DEEPSEEK_MOE -> normTopKProb && topK > 1;
        };
    }

    /** Parses a config.json of the given style; unsupported variants fail with the key that makes them so. */
    public static MoeConfig fromJson(MoeStyle style, JsonNode c) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException("config.json is not a JSON object");
        String act = c.path("hidden_act").asText("silu");
        if (!act.equals("silu")) throw new IllegalArgumentException("config.json: hidden_act '" + act + "' (only silu)");
        JsonNode scaling = c.get("rope_scaling");
        if (scaling != null && !scaling.isNull()) {
            throw new IllegalArgumentException("config.json: rope_scaling is not supported");
        }
        LlamaConfig base = LlamaConfig.fromJson(c);
        return switch (style) {
            case MIXTRAL -> new MoeConfig(style, window(base, c, true),
                    requiredInt(c, "num_local_experts"), requiredInt(c, "num_experts_per_tok"), base.intermediateSize(),
                    true, 0, 1, List.of(), 0, 1, false);
            case QWEN2_MOE -> new MoeConfig(style, window(base, c, c.path("use_sliding_window").asBoolean(false)),
                    requiredInt(c, "num_experts"), requiredInt(c, "num_experts_per_tok"),
                    requiredInt(c, "moe_intermediate_size"), bool(c, "norm_topk_prob", false),
                    requiredInt(c, "shared_expert_intermediate_size"), optInt(c, "decoder_sparse_step", 1),
                    intList(c, "mlp_only_layers"), 0, 1, bool(c, "qkv_bias", true));
            case DEEPSEEK_MOE -> deepseek(base, c);
        };
    }

    private static MoeConfig deepseek(LlamaConfig base, JsonNode c) {
        String scoring = c.path("scoring_func").asText("softmax");
        if (!scoring.equals("softmax")) {
            throw new IllegalArgumentException("config.json: scoring_func '" + scoring + "' (DeepSeekMoE v1 uses softmax)");
        }
        if (bool(c, "attention_bias", false)) throw new IllegalArgumentException("config.json: attention_bias is not supported");
        int experts = optInt(c, "n_routed_experts", 0);   // null: every layer dense
        int moeInter = experts > 0 ? requiredInt(c, "moe_intermediate_size") : 0;
        int shared = optInt(c, "n_shared_experts", 0);
        if (shared < 0) throw new IllegalArgumentException("config.json: negative n_shared_experts");
        return new MoeConfig(MoeStyle.DEEPSEEK_MOE, base, experts, experts > 0 ? requiredInt(c, "num_experts_per_tok") : 0,
                moeInter, bool(c, "norm_topk_prob", false), Math.multiplyExact(moeInter, shared), 1, List.of(),
                optInt(c, "first_k_dense_replace", 0), optInt(c, "moe_layer_freq", 1), false);
    }

    /** Caps the context at the sliding window, when one applies and is shorter. */
    private static LlamaConfig window(LlamaConfig b, JsonNode c, boolean applies) {
        int w = optInt(c, "sliding_window", 0);
        if (!applies || w <= 0 || w >= b.maxPositionEmbeddings()) return b;
        return new LlamaConfig(b.hiddenSize(), b.intermediateSize(), b.numHiddenLayers(), b.numAttentionHeads(),
                b.numKeyValueHeads(), b.rmsNormEps(), b.ropeTheta(), b.vocabSize(), w, b.tieWordEmbeddings(),
                b.bosTokenId(), b.eosTokenId());
    }

    private static boolean bool(JsonNode c, String key, boolean dflt) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isBoolean()) throw new IllegalArgumentException("config.json: '" + key + "' is not a boolean");
        return v.booleanValue();
    }

    private static List<Integer> intList(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return List.of();
        if (!v.isArray()) throw new IllegalArgumentException("config.json: '" + key + "' is not a list");
        List<Integer> out = new ArrayList<>();
        for (JsonNode e : v) {
            if (!e.isIntegralNumber() || !e.canConvertToInt()) {
                throw new IllegalArgumentException("config.json: '" + key + "' holds a non-integer");
            }
            out.add(e.intValue());
        }
        return out;
    }

    /** The config.json of this model, in its style's keys (what {@link #fromJson} reads back). */
    public ObjectNode toJson() {
        ObjectNode c = base.toJson();
        c.putArray("architectures").add(style.architecture());
        c.put("model_type", style.modelType());
        switch (style) {
            case MIXTRAL -> {
                c.put("num_local_experts", numExperts);
                c.put("num_experts_per_tok", topK);
                c.putNull("sliding_window");
            }
            case QWEN2_MOE -> {
                c.put("num_experts", numExperts);
                c.put("num_experts_per_tok", topK);
                c.put("moe_intermediate_size", expertIntermediateSize);
                c.put("shared_expert_intermediate_size", sharedIntermediateSize);
                c.put("norm_topk_prob", normTopKProb);
                c.put("decoder_sparse_step", decoderSparseStep);
                ArrayNode only = c.putArray("mlp_only_layers");
                mlpOnlyLayers.forEach(only::add);
                c.put("qkv_bias", qkvBias);
                c.put("use_sliding_window", false);
            }
            case DEEPSEEK_MOE -> {
                c.put("n_routed_experts", numExperts);
                c.put("num_experts_per_tok", topK);
                c.put("moe_intermediate_size", expertIntermediateSize);
                if (sharedIntermediateSize % Math.max(1, expertIntermediateSize) != 0) {
                    throw new IllegalStateException("DeepSeek shared width must be a multiple of moe_intermediate_size");
                }
                c.put("n_shared_experts", expertIntermediateSize == 0 ? 0 : sharedIntermediateSize / expertIntermediateSize);
                c.put("first_k_dense_replace", firstKDenseReplace);
                c.put("moe_layer_freq", moeLayerFreq);
                c.put("norm_topk_prob", normTopKProb);
                c.put("scoring_func", "softmax");
                c.put("attention_bias", false);
            }
        }
        return c;
    }
}
