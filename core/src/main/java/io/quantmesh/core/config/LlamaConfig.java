package io.quantmesh.core.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;

/** The Llama-family keys of a Hugging Face {@code config.json}. */
public record LlamaConfig(
        int hiddenSize,             // d_model
        int intermediateSize,       // SwiGLU width
        int numHiddenLayers,
        int numAttentionHeads,
        int numKeyValueHeads,       // < numAttentionHeads: grouped-query attention
        double rmsNormEps,
        double ropeTheta,
        int vocabSize,
        int maxPositionEmbeddings,
        boolean tieWordEmbeddings,  // lm_head shares model.embed_tokens.weight
        int bosTokenId,
        int eosTokenId) {

    public LlamaConfig {
        positive("hidden_size", hiddenSize);
        positive("intermediate_size", intermediateSize);
        positive("num_hidden_layers", numHiddenLayers);
        positive("num_attention_heads", numAttentionHeads);
        positive("num_key_value_heads", numKeyValueHeads);
        positive("vocab_size", vocabSize);
        positive("max_position_embeddings", maxPositionEmbeddings);
        if (hiddenSize % numAttentionHeads != 0) {
            throw new IllegalArgumentException("hidden_size " + hiddenSize + " is not divisible by num_attention_heads "
                    + numAttentionHeads);
        }
        if (numAttentionHeads % numKeyValueHeads != 0) {
            throw new IllegalArgumentException("num_attention_heads " + numAttentionHeads
                    + " is not divisible by num_key_value_heads " + numKeyValueHeads);
        }
        if ((hiddenSize / numAttentionHeads) % 2 != 0) {
            throw new IllegalArgumentException("head dimension " + hiddenSize / numAttentionHeads
                    + " must be even for rotary embeddings");
        }
        if (!(rmsNormEps > 0) || !(ropeTheta > 0)) {
            throw new IllegalArgumentException("rms_norm_eps and rope_theta must be positive");
        }
    }

    private static void positive(String key, int v) {
        if (v <= 0) throw new IllegalArgumentException("config.json: " + key + " must be positive, got " + v);
    }

    public int headDim() {
        return hiddenSize / numAttentionHeads;
    }

    public int kvDim() {
        return numKeyValueHeads * headDim();
    }

    /** Parses HF keys; absent optional keys take the transformers defaults for LlamaConfig. */
    public static LlamaConfig fromJson(JsonNode c) {
        if (c == null || !c.isObject()) throw new IllegalArgumentException("config.json is not a JSON object");
        int heads = requiredInt(c, "num_attention_heads");
        if (c.has("head_dim") && !c.get("head_dim").isNull()
                && c.get("head_dim").asInt() * heads != requiredInt(c, "hidden_size")) {
            throw new IllegalArgumentException("config.json: head_dim * num_attention_heads != hidden_size is not supported");
        }
        return new LlamaConfig(
                requiredInt(c, "hidden_size"),
                requiredInt(c, "intermediate_size"),
                requiredInt(c, "num_hidden_layers"),
                heads,
                optInt(c, "num_key_value_heads", heads),
                optDouble(c, "rms_norm_eps", 1e-6),
                optDouble(c, "rope_theta", 10000.0),
                requiredInt(c, "vocab_size"),
                optInt(c, "max_position_embeddings", 2048),
                c.path("tie_word_embeddings").asBoolean(false),
                optInt(c, "bos_token_id", 1),
                optInt(c, "eos_token_id", 2));
    }

    public ObjectNode toJson() {
        ObjectNode c = Json.mapper().createObjectNode();
        c.putArray("architectures").add("LlamaForCausalLM");
        c.put("model_type", "llama");
        c.put("hidden_size", hiddenSize);
        c.put("intermediate_size", intermediateSize);
        c.put("num_hidden_layers", numHiddenLayers);
        c.put("num_attention_heads", numAttentionHeads);
        c.put("num_key_value_heads", numKeyValueHeads);
        c.put("head_dim", headDim());
        c.put("hidden_act", "silu");
        c.put("rms_norm_eps", rmsNormEps);
        c.put("rope_theta", ropeTheta);
        c.put("vocab_size", vocabSize);
        c.put("max_position_embeddings", maxPositionEmbeddings);
        c.put("tie_word_embeddings", tieWordEmbeddings);
        c.put("bos_token_id", bosTokenId);
        c.put("eos_token_id", eosTokenId);
        c.put("torch_dtype", "float32");
        return c;
    }

    public static int requiredInt(JsonNode c, String key) {
        JsonNode v = c.get(key);
        if (v == null || !v.canConvertToInt() || !v.isIntegralNumber()) {
            throw new IllegalArgumentException("config.json: missing or non-integer '" + key + "'");
        }
        return v.intValue();
    }

    public static int optInt(JsonNode c, String key, int dflt) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (v.isArray() && !v.isEmpty()) v = v.get(0);   // e.g. eos_token_id: [2, 32000]
        if (!v.isIntegralNumber() || !v.canConvertToInt()) {
            throw new IllegalArgumentException("config.json: '" + key + "' is not an integer");
        }
        return v.intValue();
    }

    public static double optDouble(JsonNode c, String key, double dflt) {
        JsonNode v = c.get(key);
        if (v == null || v.isNull()) return dflt;
        if (!v.isNumber()) throw new IllegalArgumentException("config.json: '" + key + "' is not a number");
        return v.doubleValue();
    }
}
