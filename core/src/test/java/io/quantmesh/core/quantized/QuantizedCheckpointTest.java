package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.eval.Perplexity;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.LanguageModel;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.Stories260KTest;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Writer, reader and runtime on the real stories260K (imported from llama2.c into a temporary HF directory). */
class QuantizedCheckpointTest {
    static final int CTX = 256;

    @TempDir
    static Path tmp;
    static Path dense;
    static String text;
    static Map<String, QuantizedTensor> int4;

    @BeforeAll
    static void importStories() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        dense = tmp.resolve("stories260K");
        Llama2cImporter.importTo(Stories260KTest.CHECKPOINT, Stories260KTest.TOKENIZER, dense);
        text = Perplexity.readText(Stories260KTest.EVAL_TEXT);
        try (HfCheckpoint ck = HfCheckpoint.open(dense)) {
            int4 = RoundToNearest.linears(ck, RoundToNearest.DECODER_LINEARS, ScalarCodec.named("INT4"), 64);
        }
    }

    static QuantizedCheckpointWriter.Options options() {
        return QuantizedCheckpointWriter.Options.of("rtn").withSeed(0L);
    }

    static double ppl(Path dir) throws IOException {
        try (LanguageModel m = Models.open(dir, null)) {
            return Perplexity.evaluate(m, text, CTX, "tinystories-sample.txt", n -> {}).ppl();
        }
    }

    @Test
    void rtnInt4OfEveryLinearLoadsAndKeepsThePerplexity() throws IOException {
        assertEquals(35, int4.size());   // 5 layers x (q, k, v, o, gate, up, down)
        Path out = tmp.resolve("int4");
        QuantizedCheckpointWriter.write(dense, int4, out, options());
        double fp32 = ppl(dense), q = ppl(out);
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(out)) {
            QuantizationSummary s = r.summary();
            s.print(System.out, false);
            assertEquals(4.0, s.indexBitsPerWeight());
            assertTrue(s.storedBitsPerWeight() > 4.0 && s.storedBitsPerWeight() < 4.6, "stored " + s.storedBitsPerWeight());
            assertEquals(s.storedBitsPerWeight(), s.fileBitsPerWeight(), 1e-12);   // nothing shared
            // The runtime sees exactly the records' dequantized weights.
            for (Map.Entry<String, QuantizedTensor> e : int4.entrySet()) {
                assertArrayEquals(Layers.bits(e.getValue().dequantize()),
                        Layers.bits(r.tensor(e.getKey() + ".weight").toFloatArray()), e.getKey());
            }
        }
        System.out.printf("stories260K tinystories-sample ctx %d: fp32 ppl %.4f, RTN INT4 g64 ppl %.4f (x%.3f)%n", CTX, fp32,
                q, q / fp32);
        assertEquals(5.7351, fp32, 1e-3);
        assertTrue(Double.isFinite(q) && q > fp32 * 0.95 && q < fp32 * 1.5, "INT4 ppl " + q + " vs fp32 " + fp32);
    }

    @Test
    void theDirectoryIsTheSourcePlusTheQuantizationBlock() throws IOException {
        Path out = tmp.resolve("layout");
        QuantizedCheckpointWriter.write(dense, int4, out, options());
        try (Stream<Path> s = Files.list(out)) {
            assertEquals(List.of("config.json", "model.safetensors", "tokenizer.bin"),
                    s.map(p -> p.getFileName().toString()).sorted().toList());
        }
        assertArrayEquals(Files.readAllBytes(dense.resolve("tokenizer.bin")), Files.readAllBytes(out.resolve("tokenizer.bin")));
        JsonNode src = Json.mapper().readTree(dense.resolve("config.json").toFile());
        ObjectNode got = (ObjectNode) Json.mapper().readTree(out.resolve("config.json").toFile());
        JsonNode q = got.remove(QuantizationConfig.KEY);
        assertEquals(src, got);
        assertEquals("quantmesh", q.get("quant_method").asText());
        assertEquals(1, q.get("format_version").asInt());
        assertEquals("int", q.get("representation").asText());
        assertEquals(4, q.get("bits").asInt());
        assertEquals(64, q.get("group_size").asInt());
        // down_proj (172 inputs) keeps groups of 64; every module entry is then just its shape.
        assertEquals(Json.mapper().readTree("{\"shape\":[64,172]}"), q.get("modules").get("model.layers.2.mlp.down_proj"));
        try (HfCheckpoint src2 = HfCheckpoint.open(dense); HfCheckpoint ck = HfCheckpoint.open(out)) {
            assertEquals("1", ck.metadata().get(QuantizedCheckpointReader.FORMAT_METADATA));
            List<String> names = new ArrayList<>(ck.tensorNames());
            assertEquals("model.embed_tokens.weight", names.getFirst());
            assertEquals(List.of("model.layers.0.input_layernorm.weight", "model.layers.0.self_attn.q_proj.qweight",
                    "model.layers.0.self_attn.q_proj.scales", "model.layers.0.self_attn.q_proj.qzeros"), names.subList(1, 5));
            for (String n : src2.tensorNames()) {
                if (n.endsWith("_proj.weight")) {
                    assertFalse(ck.contains(n));
                } else {
                    assertEquals(-1, src2.tensor(n).segment().mismatch(ck.tensor(n).segment()), n);   // byte for byte
                }
            }
        }
        try (Stream<Path> s = Files.list(tmp)) {
            assertTrue(s.noneMatch(p -> p.getFileName().toString().startsWith(".")), "temporary directories left behind");
        }
    }

    @Test
    void writingTwiceGivesIdenticalFiles() throws IOException {
        Map<String, QuantizedTensor> reversed = new LinkedHashMap<>();
        new ArrayList<>(int4.keySet()).reversed().forEach(k -> reversed.put(k, int4.get(k)));
        Path a = tmp.resolve("det-a"), b = tmp.resolve("det-b");
        QuantizedCheckpointWriter.write(dense, int4, a, options());
        QuantizedCheckpointWriter.write(dense, reversed, b, options());   // the source's order decides, not the map's
        Map<String, String> ha = sha256(a), hb = sha256(b);
        System.out.println("sha256 " + ha);
        assertEquals(ha, hb);
        Path c = tmp.resolve("det-c");
        QuantizedCheckpointWriter.write(dense, int4, c, options().withSeed(1L));
        assertNotEquals(ha.get("config.json"), sha256(c).get("config.json"));   // the digest does see content
    }

    static Map<String, String> sha256(Path dir) throws IOException {
        Map<String, String> out = new TreeMap<>();
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.toList()) {
                try {
                    out.put(p.getFileName().toString(),
                            HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(p))));
                } catch (java.security.NoSuchAlgorithmException e) {
                    throw new IllegalStateException(e);
                }
            }
        }
        return out;
    }

    @Test
    void shardsGiveTheSameModel() throws IOException {
        Path single = tmp.resolve("one-shard"), sharded = tmp.resolve("shards");
        QuantizedCheckpointWriter.write(dense, int4, single, options());
        QuantizedCheckpointWriter.Written w = QuantizedCheckpointWriter.write(dense, int4, sharded,
                options().withMaxShardBytes(40_000));
        assertTrue(w.files().size() > 3, "files " + w.files());
        assertEquals("model-00001-of-0000" + w.files().size() + ".safetensors", w.files().getFirst());
        assertTrue(Files.isRegularFile(sharded.resolve(HfCheckpoint.INDEX)));
        assertFalse(Files.exists(sharded.resolve(HfCheckpoint.SINGLE)));
        JsonNode index = Json.mapper().readTree(sharded.resolve(HfCheckpoint.INDEX).toFile());
        assertEquals(w.tensorBytes(), index.get("metadata").get("total_size").asLong());
        try (HfCheckpoint a = HfCheckpoint.open(single); HfCheckpoint b = HfCheckpoint.open(sharded)) {
            assertEquals(List.copyOf(a.tensorNames()), List.copyOf(b.tensorNames()));
            for (var f : b.shards()) assertEquals("1", f.metadata().get(QuantizedCheckpointReader.FORMAT_METADATA));
        }
        try (LanguageModel a = Models.open(single, null); LanguageModel b = Models.open(sharded, null)) {
            int[] tokens = java.util.Arrays.copyOf(Perplexity.tokenize(a, text), 64);
            float[][] la = a.forwardAll(a.newState(), tokens), lb = b.forwardAll(b.newState(), tokens);
            for (int t = 0; t < tokens.length; t++) assertArrayEquals(Layers.bits(la[t]), Layers.bits(lb[t]), "position " + t);
        }
    }

    @Test
    void mixedRepresentationsWithSharedCodebooks() throws IOException {
        Map<String, QuantizedTensor> mixed = new LinkedHashMap<>();
        var polar = Layers.polar(8, 10, 1);
        var kmeans = Layers.kmeans(256, 4, 2);
        try (HfCheckpoint ck = HfCheckpoint.open(dense)) {
            long seed = 100;
            for (String name : ck.tensorNames()) {
                if (!RoundToNearest.DECODER_LINEARS.matcher(name).matches()) continue;
                String module = name.substring(0, name.length() - ".weight".length());
                float[] w = ck.tensor(name).toFloatArray();
                int rows = (int) ck.info(name).shape()[0], cols = (int) ck.info(name).shape()[1];
                int layer = Integer.parseInt(name.split("\\.")[2]);
                mixed.put(module, switch (layer) {
                    case 0 -> RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("INT4"), 64);
                    case 1 -> RoundToNearest.scalar(w, rows, cols, ScalarCodec.named("NF4"), 32);
                    case 2 -> RoundToNearest.vectors(w, rows, cols, kmeans, null, new int[] {0});
                    default -> RoundToNearest.polar(w, rows, cols, polar, seed++, seed++);
                });
            }
        }
        Path out = tmp.resolve("mixed");
        QuantizedCheckpointWriter.write(dense, mixed, out, options());
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(out)) {
            long directions = r.quantizedTensorNames().stream().filter(n -> n.endsWith(".directions")).count();
            long codebooks = r.quantizedTensorNames().stream().filter(n -> n.endsWith(".codebook")).count();
            long grids = r.quantizedTensorNames().stream().filter(n -> n.endsWith(".grid")).count();
            assertEquals(1, directions, "one polar codebook for 14 layers");
            assertEquals(1, codebooks);
            assertEquals(1, grids);
            String first = "model.layers.3.self_attn.q_proj";
            JsonNode modules = r.quantization().json().get("modules");
            assertEquals(first + ".directions", modules.get("model.layers.4.mlp.up_proj").get("shared_tensors").get("directions").asText());
            assertFalse(modules.get(first).has("shared_tensors"));
            for (Map.Entry<String, QuantizedTensor> e : mixed.entrySet()) {
                QuantizedTensor back = r.layer(e.getKey());
                assertEquals(e.getValue().getClass(), back.getClass());
                assertArrayEquals(Layers.bits(e.getValue().dequantize()), Layers.bits(back.dequantize()), e.getKey());
            }
            QuantizationSummary s = r.summary();
            s.print(System.out, true);
            assertTrue(s.fileBitsPerWeight() < s.storedBitsPerWeight() / 2, "sharing saves: " + s.fileBitsPerWeight());
        }
        try (LanguageModel m = Models.open(out, null)) {
            float[] logits = m.next(m.newState(), 1);
            for (float x : logits) assertTrue(Float.isFinite(x));
        }
    }

    @Test
    void writerRefusals() throws IOException {
        Path out = tmp.resolve("refused");
        Map<String, QuantizedTensor> unknown = Map.of("model.layers.9.mlp.up_proj", int4.values().iterator().next());
        assertTrue(assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpointWriter.write(dense, unknown, out, options()))
                .getMessage().contains("no tensor 'model.layers.9.mlp.up_proj.weight'"));
        Map<String, QuantizedTensor> wrongShape = Map.of("model.layers.0.mlp.down_proj", int4.get("model.layers.0.mlp.up_proj"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> QuantizedCheckpointWriter.write(dense, wrongShape, out, options()))
                .getMessage().contains("[64, 172]"));
        assertFalse(Files.exists(out));
        Path q = tmp.resolve("refused-twice");
        QuantizedCheckpointWriter.write(dense, int4, q, options());
        assertThrows(FileAlreadyExistsException.class, () -> QuantizedCheckpointWriter.write(dense, int4, q, options()));
        QuantizedCheckpointWriter.write(dense, int4, q, options().withReplaceExisting(true));
        assertTrue(assertThrows(IOException.class, () -> QuantizedCheckpointWriter.write(q, int4, tmp.resolve("x"), options()))
                .getMessage().contains("re-quantizing"));
    }
}
