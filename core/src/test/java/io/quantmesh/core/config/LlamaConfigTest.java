package io.quantmesh.core.config;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.Json;
import org.junit.jupiter.api.Test;

class LlamaConfigTest {
    @Test
    void parsesHfKeysWithDefaults() throws Exception {
        var c = LlamaConfig.fromJson(Json.mapper().readTree("""
                {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22,
                 "num_attention_heads": 32, "num_key_value_heads": 4, "vocab_size": 32000,
                 "rms_norm_eps": 1e-5, "eos_token_id": [2, 32000]}"""));
        assertEquals(64, c.headDim());
        assertEquals(256, c.kvDim());
        assertEquals(10000.0, c.ropeTheta());
        assertEquals(2048, c.maxPositionEmbeddings());
        assertFalse(c.tieWordEmbeddings());
        assertEquals(2, c.eosTokenId());
        assertEquals(c, LlamaConfig.fromJson(c.toJson()), "toJson round-trips");
    }

    @Test
    void rejectsInconsistentShapesClearly() throws Exception {
        var e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(Json.mapper().readTree("""
                {"hidden_size": 64, "intermediate_size": 172, "num_hidden_layers": 5,
                 "num_attention_heads": 8, "num_key_value_heads": 3, "vocab_size": 512}""")));
        assertTrue(e.getMessage().contains("not divisible by num_key_value_heads"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> LlamaConfig.fromJson(Json.mapper().readTree(
                "{\"hidden_size\": 64}")));
        assertTrue(e.getMessage().contains("missing or non-integer"), e.getMessage());
    }
}
