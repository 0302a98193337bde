package io.quantmesh.core.model.rwkv;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.core.tokenizer.ByteTokenizer;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Hugging Face layouts: the tiny rwkv.cpp models (and a constructed v6) written as HF checkpoints with
 * SafetensorsWriter and read back must give the very same weights and logits.
 */
class RwkvHfFormatTest {
    @TempDir
    Path dir;

    private RwkvModel roundTrip(RwkvWeights w, String name) throws IOException {
        Path out = dir.resolve(name);
        RwkvHfFormat.save(w, out);
        assertTrue(RwkvModels.isRwkv(out));
        RwkvModel back = RwkvModels.open(out);
        RwkvWeights r = back.weights();
        assertEquals(w.config(), r.config());
        assertEquals(w.tensors().keySet(), r.tensors().keySet());
        for (String n : w.tensors().keySet()) assertArrayEquals(w.floats(n), r.floats(n), 0f, n);
        RwkvModel original = new RwkvModel(w, ByteTokenizer.instance());
        assertArrayEquals(TinyRwkv.logitsAfter(original, "\"in the"), TinyRwkv.logitsAfter(back, "\"in the"), 0f);
        return back;
    }

    @Test
    void rwkv5LayoutRoundTripsV51AndV52() throws IOException {
        for (String id : new String[] {TinyRwkv.V5_1, TinyRwkv.V5_2}) {
            RwkvModel m = roundTrip(TinyRwkv.weights(id), id);
            double d = TinyRwkv.maxAbsDiff(TinyRwkv.logitsAfter(m, "\"in"), TinyRwkv.expectedLogits(id));
            assertTrue(d < 1e-4, id + " from HF vs rwkv.cpp: " + d);
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir.resolve(TinyRwkv.V5_2))) {
            assertEquals("Rwkv5ForCausalLM", c.config().path("architectures").get(0).asText());
            assertEquals("rwkv5", c.config().path("model_type").asText());
            assertEquals(8, c.config().path("head_size").asInt());
            assertArrayEquals(new long[] {1, 1, 64}, c.info("rwkv.blocks.3.attention.time_mix_key").shape());
            assertArrayEquals(new long[] {1, 1, 64}, c.info("rwkv.blocks.3.feed_forward.time_mix_receptance").shape());
            assertArrayEquals(new long[] {8, 8}, c.info("rwkv.blocks.3.attention.time_faaaa").shape());
            assertArrayEquals(new long[] {64, 64}, c.info("rwkv.blocks.3.attention.gate.weight").shape());
            assertTrue(c.contains("rwkv.embeddings.weight") && c.contains("rwkv.blocks.0.pre_ln.weight")
                    && c.contains("rwkv.ln_out.bias") && c.contains("head.weight"));
        }
        try (HfCheckpoint c = HfCheckpoint.open(dir.resolve(TinyRwkv.V5_1))) {
            assertTrue(c.contains("rwkv.blocks.0.attention.time_first"));
        }
    }

    @Test
    void flaLayoutRoundTripsV7() throws IOException {
        roundTrip(TinyRwkv.weights(TinyRwkv.V7), "v7");
        try (HfCheckpoint c = HfCheckpoint.open(dir.resolve("v7"))) {
            JsonNode cfg = c.config();
            assertEquals("RWKV7ForCausalLM", cfg.path("architectures").get(0).asText());
            assertEquals(64, cfg.path("head_dim").asInt());
            assertEquals(32, cfg.path("decay_low_rank_dim").asInt());
            assertArrayEquals(new long[] {32, 64}, c.info("model.layers.2.attn.w_lora.lora.0.weight").shape());
            assertArrayEquals(new long[] {64, 32}, c.info("model.layers.2.attn.w_lora.lora.2.weight").shape());
            assertArrayEquals(new long[] {64}, c.info("model.layers.2.attn.w_lora.lora.2.bias").shape());
            assertArrayEquals(new long[] {1, 1, 64}, c.info("model.layers.2.attn.x_r").shape());
            assertArrayEquals(new long[] {1, 64}, c.info("model.layers.2.attn.r_k").shape());
            assertTrue(c.contains("model.layers.2.attn.r_proj.weight") && c.contains("model.layers.2.attn.g_norm.bias")
                    && c.contains("model.layers.0.pre_norm.weight") && c.contains("model.layers.2.ffn_norm.weight")
                    && c.contains("model.layers.2.ffn.x_k") && c.contains("model.norm.weight")
                    && c.contains("lm_head.weight") && !c.contains("model.layers.0.attn.v_lora.lora.0.weight"));
        }
    }

    @Test
    void rwkv6LayoutTransposesTheLowRankFactors() throws IOException {
        RwkvWeights v6 = ConstructedRwkv.v6From(TinyRwkv.weights(TinyRwkv.V5_2), 0.5, 8, 16, 64e-5, 9);
        roundTrip(v6, "v6");
        try (HfCheckpoint c = HfCheckpoint.open(dir.resolve("v6"))) {
            assertEquals("Rwkv6ForCausalLM", c.config().path("architectures").get(0).asText());
            assertEquals(8.0, c.config().path("head_size_divisor").asDouble());
            assertArrayEquals(new long[] {64, 40}, c.info("rwkv.blocks.1.attention.time_maa_w1").shape());
            assertArrayEquals(new long[] {5, 8, 64}, c.info("rwkv.blocks.1.attention.time_maa_w2").shape());
            assertArrayEquals(new long[] {64, 16}, c.info("rwkv.blocks.1.attention.time_decay_w1").shape());
            assertArrayEquals(new long[] {16, 64}, c.info("rwkv.blocks.1.attention.time_decay_w2").shape());
            assertArrayEquals(new long[] {1, 1, 64}, c.info("rwkv.blocks.1.attention.time_decay").shape());
            // HF's x @ time_maa_w1 orientation: element (i, m) of the HF tensor is canonical (m, i).
            Tensor hf = c.tensor("rwkv.blocks.1.attention.time_maa_w1");
            float[] canon = v6.floats("blocks.1.att.time_maa_w1");
            assertEquals(canon[7 * 64 + 3], hf.getFloat(3 * 40 + 7));
            Tensor w2 = c.tensor("rwkv.blocks.1.attention.time_maa_w2");
            assertEquals(v6.floats("blocks.1.att.time_maa_w2")[(2 * 64 + 5) * 8 + 6], w2.getFloat((2 * 8 + 6) * 64 + 5));
        }
    }

    /** The project-wide factory dispatches rwkv.cpp files and RWKV HF directories here. */
    @Test
    void projectFactoryOpensRwkv() throws IOException {
        try (LanguageModel m = Models.open(TinyRwkv.file(TinyRwkv.V5_1), null)) {
            assertEquals("rwkv5", m.family());
            assertEquals(256, m.vocabSize());
        }
        RwkvHfFormat.save(TinyRwkv.weights(TinyRwkv.V7), dir.resolve("v7dir"));
        try (LanguageModel m = Models.open(dir.resolve("v7dir"), null)) {
            assertEquals("rwkv7", m.family());
            assertArrayEquals(TinyRwkv.logitsAfter(TinyRwkv.model(TinyRwkv.V7), "ab"),
                    TinyRwkv.logitsAfter((RwkvModel) m, "ab"), 0f);
        }
    }

    /** Rewrites a saved checkpoint with changed tensors and/or config. */
    private Path tamper(String from, String to, Consumer<Map<String, Tensor>> tensors, Consumer<ObjectNode> config)
            throws IOException {
        Path src = dir.resolve(from), dst = dir.resolve(to);
        Files.createDirectories(dst);
        try (HfCheckpoint c = HfCheckpoint.open(src)) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (String n : c.tensorNames()) t.put(n, Tensor.ofFloats(c.tensor(n).toFloatArray(), c.info(n).shape()));
            tensors.accept(t);
            SafetensorsWriter.write(dst.resolve("model.safetensors"), t, Map.of());
            ObjectNode cfg = c.config().deepCopy();
            config.accept(cfg);
            Files.write(dst.resolve("config.json"), Json.mapper().writeValueAsBytes(cfg));
        }
        return dst;
    }

    private static void assertFails(Path p, String expected) {
        IOException e = assertThrows(IOException.class, () -> RwkvModels.load(p));
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void inconsistentCheckpointsFailClearly() throws IOException {
        RwkvHfFormat.save(TinyRwkv.weights(TinyRwkv.V5_2), dir.resolve("ok"));
        assertFails(tamper("ok", "extra", t -> t.put("rwkv.blocks.0.attention.bogus", Tensor.ofFloats(new float[1], 1)),
                c -> {}), "rwkv.blocks.0.attention.bogus");
        assertFails(tamper("ok", "missing", t -> t.remove("rwkv.blocks.4.feed_forward.key.weight"), c -> {}),
                "missing tensor blocks.4.ffn.key.weight");
        assertFails(tamper("ok", "shape", t -> t.put("rwkv.blocks.4.attention.key.weight",
                Tensor.ofFloats(new float[64 * 32], 64, 32)), c -> {}), "blocks.4.att.key.weight");
        assertFails(tamper("ok", "config", t -> {}, c -> c.put("hidden_size", 128)), "hidden_size = 128");
        assertFails(tamper("ok", "v4", t -> {}, c -> {
            c.put("model_type", "rwkv");
            c.putArray("architectures").add("RwkvForCausalLM");
        }), "v4");
        // Tied embeddings: a checkpoint without a head reuses the embedding.
        Path tied = tamper("ok", "tied", t -> t.remove("head.weight"), c -> c.put("tie_word_embeddings", true));
        RwkvWeights w = RwkvModels.load(tied);
        assertArrayEquals(w.floats("emb.weight"), w.floats("head.weight"), 0f);
        assertFails(tamper("ok", "untied", t -> t.remove("head.weight"), c -> {}), "missing tensor head.weight");
    }
}
