package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.quantmesh.core.Json;
import io.quantmesh.core.Shared;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.codec.ScalarCodec;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.model.Models;
import io.quantmesh.core.model.llama.Stories260KTest;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.safetensors.TensorInfo;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Broken quantized checkpoints: Models.open refuses each with an IOException naming the problem. */
class MalformedCheckpointTest {
    static final String Q = "model.layers.1.self_attn.q_proj";

    @TempDir
    static Path tmp;
    static Path good;
    static int cases;

    @BeforeAll
    static void writeOne() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path dense = tmp.resolve("dense");
        Llama2cImporter.importTo(Stories260KTest.CHECKPOINT, Stories260KTest.TOKENIZER, dense);
        good = tmp.resolve("good");
        try (HfCheckpoint ck = HfCheckpoint.open(dense)) {
            QuantizedCheckpointWriter.write(dense, RoundToNearest.linears(ck, RoundToNearest.DECODER_LINEARS,
                    ScalarCodec.named("INT4"), 64), good, QuantizedCheckpointWriter.Options.of("rtn"));
        }
        Models.open(good, null).close();
    }

    /** A copy of the good checkpoint with its config and tensors (and metadata) changed. */
    static Path tampered(Consumer<ObjectNode> config, Consumer<Map<String, Tensor>> tensors, Consumer<Map<String, String>> metadata)
            throws IOException {
        Path dir = tmp.resolve("bad" + cases++);
        Files.createDirectories(dir);
        Files.copy(good.resolve("tokenizer.bin"), dir.resolve("tokenizer.bin"));
        ObjectNode c = (ObjectNode) Json.mapper().readTree(good.resolve("config.json").toFile());
        config.accept((ObjectNode) c.get(QuantizationConfig.KEY));
        Files.write(dir.resolve("config.json"), Json.mapper().writeValueAsBytes(c));
        try (SafetensorsFile f = SafetensorsFile.open(good.resolve(HfCheckpoint.SINGLE))) {
            Map<String, Tensor> t = new LinkedHashMap<>();
            for (TensorInfo i : f.tensors()) t.put(i.name(), f.tensor(i.name()));
            tensors.accept(t);
            Map<String, String> md = new LinkedHashMap<>(f.metadata());
            metadata.accept(md);
            SafetensorsWriter.write(dir.resolve(HfCheckpoint.SINGLE), t, md);
        }
        return dir;
    }

    static void refused(Path dir, String expected) {
        IOException e = assertThrows(IOException.class, () -> Models.open(dir, null).close());
        assertTrue(e.getMessage().contains(expected), "expected '" + expected + "' in: " + e.getMessage());
    }

    @Test
    void refusals() throws IOException {
        refused(tampered(q -> q.put("format_version", 2), t -> {}, m -> {}), "quantized checkpoint format 2 is newer than this reader (1)");
        refused(tampered(q -> q.remove("format_version"), t -> {}, m -> {}), "format_version must be a positive integer");
        refused(tampered(q -> q.remove("modules"), t -> {}, m -> {}), "modules must be a non-empty object");
        refused(tampered(q -> {}, t -> {}, m -> m.remove(QuantizedCheckpointReader.FORMAT_METADATA)),
                "model.safetensors: __metadata__ quantmesh.format is missing, config.json says format 1");
        refused(tampered(q -> {}, t -> t.put(Q + ".weight", Tensor.zeros(io.quantmesh.core.tensor.DType.F32, 64, 64)), m -> {}),
                "module '" + Q + "' is quantized but '" + Q + ".weight' is also stored");
        refused(tampered(q -> {}, t -> t.put(Q + ".codebook", Tensor.zeros(io.quantmesh.core.tensor.DType.F16, 4, 4)), m -> {}),
                "unexpected tensor '" + Q + ".codebook': a int layer stores [qweight, scales, qzeros, perm]");
        refused(tampered(q -> {}, t -> t.remove(Q + ".qzeros"), m -> {}), "missing tensor '" + Q + ".qzeros'");
        // A config shape the model does not have is refused before anything is dequantized.
        refused(tampered(q -> ((ObjectNode) q.get("modules").get(Q)).putArray("shape").add(64).add(1 << 20), t -> {}, m -> {}),
                "module '" + Q + "' has shape [64, 1048576], the model expects [64, 64]");
        refused(tampered(q -> ((ObjectNode) q.get("modules").get(Q)).put("bits", 3), t -> {}, m -> {}),
                "tensor '" + Q + ".qweight' has shape [512], expected [384]");
    }

    /** A tiny file whose config claims a 46340×46340 layer (one-bit VQ indices over 64-row vectors: 4 MB of codes). */
    @Test
    void aHugeClaimedLayerIsRefusedBeforeAllocating() throws IOException {
        Path dir = tmp.resolve("huge");
        Files.createDirectories(dir);
        int n = 46340;
        ObjectNode c = Json.mapper().createObjectNode().put("model_type", "custom");
        ObjectNode q = c.putObject(QuantizationConfig.KEY).put("quant_method", "quantmesh").put("format_version", 1)
                .put("method", "test");
        q.putObject("modules").putObject("big").put("representation", "vector").put("vector_size", 64)
                .put("codebook_size", 1).put("residual_codebook_size", 0).put("outlier_columns", 0).put("act_order", false)
                .putArray("shape").add(n).add(n);
        Files.write(dir.resolve("config.json"), Json.mapper().writeValueAsBytes(c));
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("big.qweight", Tensor.zeros(io.quantmesh.core.tensor.DType.I32, io.quantmesh.core.codec.BitPacker.words((long) 725 * n, 1)));
        t.put("big.codebook", Tensor.zeros(io.quantmesh.core.tensor.DType.F16, 1, 64));
        SafetensorsWriter.write(dir.resolve(HfCheckpoint.SINGLE), t, Map.of(QuantizedCheckpointReader.FORMAT_METADATA, "1"));
        try (QuantizedCheckpointReader r = QuantizedCheckpointReader.open(dir)) {
            Assumptions.assumeTrue(Runtime.getRuntime().maxMemory() < 16L << 30, "heap too large for this test");
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> r.tensor("big.weight"));
            assertTrue(e.getMessage().contains("module 'big' [46340, 46340] dequantizes to 8191 MiB, more than half the heap"),
                    e.getMessage());
        }
    }
}
