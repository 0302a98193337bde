package io.quantmesh.core.model.moe;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.safetensors.TensorSpec;
import io.quantmesh.core.tensor.DType;
import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** config.json of the three styles, with the values the published models ship. */
class MoeConfigTest {
    // Mixtral-8x7B-v0.1
    static final String MIXTRAL = """
            {"architectures":["MixtralForCausalLM"],"attention_dropout":0.0,"bos_token_id":1,"eos_token_id":2,
             "hidden_act":"silu","hidden_size":4096,"initializer_range":0.02,"intermediate_size":14336,
             "max_position_embeddings":32768,"model_type":"mixtral","num_attention_heads":32,"num_experts_per_tok":2,
             "num_hidden_layers":32,"num_key_value_heads":8,"num_local_experts":8,"output_router_logits":false,
             "rms_norm_eps":1e-05,"rope_theta":1000000.0,"router_aux_loss_coef":0.02,"sliding_window":null,
             "tie_word_embeddings":false,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":32000}""";
    // Qwen1.5-MoE-A2.7B
    static final String QWEN = """
            {"architectures":["Qwen2MoeForCausalLM"],"attention_dropout":0.0,"bos_token_id":151643,
             "eos_token_id":151643,"hidden_act":"silu","hidden_size":2048,"initializer_range":0.02,
             "intermediate_size":5632,"max_position_embeddings":8192,"max_window_layers":21,"model_type":"qwen2_moe",
             "num_attention_heads":16,"num_hidden_layers":24,"num_key_value_heads":16,"rms_norm_eps":1e-06,
             "rope_theta":1000000.0,"sliding_window":32768,"tie_word_embeddings":false,"torch_dtype":"bfloat16",
             "use_cache":true,"use_sliding_window":false,"vocab_size":151936,"decoder_sparse_step":1,
             "moe_intermediate_size":1408,"shared_expert_intermediate_size":5632,"num_experts_per_tok":4,
             "num_experts":60,"norm_topk_prob":false,"output_router_logits":false,"router_aux_loss_coef":0.001}""";
    // deepseek-moe-16b-base
    static final String DEEPSEEK = """
            {"architectures":["DeepseekForCausalLM"],"attention_bias":false,"attention_dropout":0.0,
             "aux_loss_alpha":0.001,"bos_token_id":100000,"eos_token_id":100001,"first_k_dense_replace":1,
             "hidden_act":"silu","hidden_size":2048,"initializer_range":0.02,"intermediate_size":10944,
             "max_position_embeddings":4096,"model_type":"deepseek","moe_intermediate_size":1408,"moe_layer_freq":1,
             "n_routed_experts":64,"n_shared_experts":2,"norm_topk_prob":false,"num_attention_heads":16,
             "num_experts_per_tok":6,"num_hidden_layers":28,"num_key_value_heads":16,"pretraining_tp":1,
             "rms_norm_eps":1e-06,"rope_scaling":null,"rope_theta":10000,"scoring_func":"softmax","seq_aux":true,
             "tie_word_embeddings":false,"torch_dtype":"bfloat16","use_cache":true,"vocab_size":102400}""";

    static ObjectNode json(String s) {
        try {
            return (ObjectNode) Json.mapper().readTree(s);
        } catch (Exception e) {
            throw new AssertionError(e);
        }
    }

    static MoeConfig parse(String s) {
        JsonNode j = json(s);
        return MoeConfig.fromJson(MoeStyle.of(j).orElseThrow(), j);
    }

    static Map<String, long[]> shapes(MoeConfig c) {
        return MoeWeights.specs(c, DType.BF16).stream().collect(Collectors.toMap(TensorSpec::name, TensorSpec::shape));
    }

    @Test
    void mixtral8x7b() {
        MoeConfig c = parse(MIXTRAL);
        assertEquals(MoeStyle.MIXTRAL, c.style());
        assertEquals(8, c.numExperts());
        assertEquals(2, c.topK());
        assertEquals(14336, c.expertIntermediateSize());
        assertTrue(c.renormalises());
        assertFalse(c.hasSharedExpert());
        assertEquals(32768, c.base().maxPositionEmbeddings());
        assertEquals(32, c.numMoeLayers());
        Map<String, long[]> s = shapes(c);
        assertArrayEquals(new long[] {8, 4096}, s.get("model.layers.31.block_sparse_moe.gate.weight"));
        assertArrayEquals(new long[] {14336, 4096}, s.get("model.layers.0.block_sparse_moe.experts.7.w1.weight"));
        assertArrayEquals(new long[] {4096, 14336}, s.get("model.layers.0.block_sparse_moe.experts.7.w2.weight"));
        assertArrayEquals(new long[] {14336, 4096}, s.get("model.layers.0.block_sparse_moe.experts.7.w3.weight"));
        assertArrayEquals(new long[] {1024, 4096}, s.get("model.layers.0.self_attn.k_proj.weight"));
        // 46.7B parameters, as published
        long params = MoeWeights.specs(c, DType.BF16).stream().mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(46_702_792_704L, params);
    }

    @Test
    void qwen15MoeA27b() {
        MoeConfig c = parse(QWEN);
        assertEquals(MoeStyle.QWEN2_MOE, c.style());
        assertEquals(60, c.numExperts());
        assertEquals(4, c.topK());
        assertFalse(c.renormalises());
        assertEquals(5632, c.sharedIntermediateSize());
        assertTrue(c.qkvBias());
        assertEquals(8192, c.base().maxPositionEmbeddings()); // use_sliding_window false: no cap
        assertEquals(24, c.numMoeLayers());
        Map<String, long[]> s = shapes(c);
        assertArrayEquals(new long[] {60, 2048}, s.get("model.layers.3.mlp.gate.weight"));
        assertArrayEquals(new long[] {1408, 2048}, s.get("model.layers.3.mlp.experts.59.up_proj.weight"));
        assertArrayEquals(new long[] {2048, 5632}, s.get("model.layers.3.mlp.shared_expert.down_proj.weight"));
        assertArrayEquals(new long[] {1, 2048}, s.get("model.layers.3.mlp.shared_expert_gate.weight"));
        assertArrayEquals(new long[] {2048}, s.get("model.layers.3.self_attn.q_proj.bias"));
        // 14.3B parameters, as published
        long params = MoeWeights.specs(c, DType.BF16).stream().mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(14_315_784_192L, params);
    }

    @Test
    void deepseekMoe16b() {
        MoeConfig c = parse(DEEPSEEK);
        assertEquals(MoeStyle.DEEPSEEK_MOE, c.style());
        assertEquals(64, c.numExperts());
        assertEquals(6, c.topK());
        assertFalse(c.renormalises());
        assertEquals(2816, c.sharedIntermediateSize());   // moe_intermediate_size * n_shared_experts
        assertFalse(c.isMoeLayer(0));                      // first_k_dense_replace = 1
        assertTrue(c.isMoeLayer(1));
        assertEquals(27, c.numMoeLayers());
        Map<String, long[]> s = shapes(c);
        assertArrayEquals(new long[] {10944, 2048}, s.get("model.layers.0.mlp.gate_proj.weight"));
        assertArrayEquals(new long[] {64, 2048}, s.get("model.layers.1.mlp.gate.weight"));
        assertArrayEquals(new long[] {2048, 1408}, s.get("model.layers.27.mlp.experts.63.down_proj.weight"));
        assertArrayEquals(new long[] {2816, 2048}, s.get("model.layers.1.mlp.shared_experts.gate_proj.weight"));
        // 16.4B parameters, as published
        long params = MoeWeights.specs(c, DType.BF16).stream().mapToLong(t -> Arrays.stream(t.shape()).reduce(1, (a, b) -> a * b)).sum();
        assertEquals(16_375_728_128L, params);
    }

    @Test
    void sparseLayerPatterns() {
        ObjectNode q = json(QWEN);
        q.put("num_hidden_layers", 8);
        q.put("decoder_sparse_step", 2);
        q.putArray("mlp_only_layers").add(3).add(4);
        MoeConfig qc = MoeConfig.fromJson(MoeStyle.QWEN2_MOE, q);
        // sparse where (l+1) % 2 == 0 and l not in [3, 4]
        assertArrayEquals(new boolean[] {false, true, false, false, false, true, false, true}, pattern(qc));

        ObjectNode d = json(DEEPSEEK);
        d.put("num_hidden_layers", 8);
        d.put("first_k_dense_replace", 3);
        d.put("moe_layer_freq", 2);
        MoeConfig dc = MoeConfig.fromJson(MoeStyle.DEEPSEEK_MOE, d);
        // sparse where l >= 3 and l % 2 == 0
        assertArrayEquals(new boolean[] {false, false, false, false, true, false, true, false}, pattern(dc));

        d.putNull("n_routed_experts");
        assertArrayEquals(new boolean[8], pattern(MoeConfig.fromJson(MoeStyle.DEEPSEEK_MOE, d)));
        d.put("n_routed_experts", 8).putNull("n_shared_experts");
        assertFalse(MoeConfig.fromJson(MoeStyle.DEEPSEEK_MOE, d).hasSharedExpert());
    }

    static boolean[] pattern(MoeConfig c) {
        boolean[] b = new boolean[c.base().numHiddenLayers()];
        IntStream.range(0, b.length).forEach(l -> b[l] = c.isMoeLayer(l));
        return b;
    }

    @Test
    void slidingWindowCapsTheContext() {
        ObjectNode m = json(MIXTRAL);
        m.put("sliding_window", 4096);
        assertEquals(4096, MoeConfig.fromJson(MoeStyle.MIXTRAL, m).base().maxPositionEmbeddings());
        ObjectNode q = json(QWEN);
        q.put("sliding_window", 1024);
        assertEquals(8192, MoeConfig.fromJson(MoeStyle.QWEN2_MOE, q).base().maxPositionEmbeddings());
        q.put("use_sliding_window", true);
        assertEquals(1024, MoeConfig.fromJson(MoeStyle.QWEN2_MOE, q).base().maxPositionEmbeddings());
    }

    @Test
    void styleFromModelTypeOrArchitectures() {
        assertEquals(MoeStyle.DEEPSEEK_MOE, MoeStyle.of(json(DEEPSEEK)).orElseThrow());
        ObjectNode a = json(QWEN);
        a.remove("model_type");
        assertEquals(MoeStyle.QWEN2_MOE, MoeStyle.of(a).orElseThrow());
        assertTrue(MoeStyle.of(json("{\"model_type\":\"llama\",\"architectures\":[\"MixtralForCausalLM\"]}")).isEmpty());
        assertEquals(MoeStyle.DEEPSEEK_MOE, MoeStyle.parse("deepseek"));
        assertThrows(IllegalArgumentException.class, () -> MoeStyle.parse("switch"));
    }

    @Test
    void toJsonRoundTrips() {
        for (String s : List.of(MIXTRAL, QWEN, DEEPSEEK)) {
            MoeConfig c = parse(s);
            MoeConfig back = MoeConfig.fromJson(c.style(), c.toJson());
            assertEquals(c, back);
            assertEquals(MoeStyle.of(c.toJson()).orElseThrow(), c.style());
        }
    }

    @Test
    void tensorCountIsCheckedBeforeAnythingIsBuilt() {
        for (String s : List.of(MIXTRAL, QWEN, DEEPSEEK)) {
            MoeConfig c = parse(s);
            int n = MoeWeights.specs(c, DType.BF16).size();
            MoeWeights.checkFits(c, n);
            assertThrows(IllegalArgumentException.class, () -> MoeWeights.checkFits(c, n - 1));
        }
        ObjectNode huge = json(MIXTRAL);
        huge.put("num_hidden_layers", 1_000_000_000).put("num_local_experts", 65536);
        MoeConfig c = MoeConfig.fromJson(MoeStyle.MIXTRAL, huge);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> MoeWeights.checkFits(c, 995)).getMessage()
                .contains("1000000000 layers"));
    }

    @Test
    void unsupportedOrInconsistentConfigsAreRejectedWithTheKey() {
        Function<String, String> error = s -> assertThrows(IllegalArgumentException.class, () -> parse(s)).getMessage();
        assertTrue(error.apply(DEEPSEEK.replace("\"softmax\"", "\"sigmoid\"")).contains("scoring_func"));
        assertTrue(error.apply(MIXTRAL.replace("\"num_experts_per_tok\":2", "\"num_experts_per_tok\":9"))
                .contains("num_experts_per_tok"));
        assertTrue(error.apply(MIXTRAL.replace("\"num_local_experts\":8,", "")).contains("num_local_experts"));
        assertTrue(error.apply(DEEPSEEK.replace("\"rope_scaling\":null", "\"rope_scaling\":{\"type\":\"linear\"}"))
                .contains("rope_scaling"));
        assertTrue(error.apply(QWEN.replace("\"silu\"", "\"gelu\"")).contains("hidden_act"));
        assertTrue(error.apply(QWEN.replace("\"norm_topk_prob\":false", "\"norm_topk_prob\":\"no\"")).contains("norm_topk_prob"));
        assertTrue(error.apply(DEEPSEEK.replace("\"attention_bias\":false", "\"attention_bias\":true")).contains("attention_bias"));
        assertTrue(error.apply(MIXTRAL.replace("\"num_local_experts\":8", "\"num_local_experts\":100000000"))
                .contains("out of range"));
    }
}
