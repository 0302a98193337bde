package io.quantmesh.core.safetensors;

import static org.junit.jupiter.api.Assertions.*;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.tensor.DType;
import io.quantmesh.core.tensor.Half;
import io.quantmesh.core.tensor.Tensor;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SafetensorsRoundTripTest {
    @TempDir
    Path dir;

    @Test
    void writesAndMapsBackEveryDtype() throws Exception {
        Map<String, Tensor> in = new LinkedHashMap<>();
        in.put("a.weight", Tensor.ofFloats(new float[] {1, -2.5f, 3, 4, 5, 6}, 2, 3));
        in.put("b.f16", Tensor.ofFloats(new float[] {0.5f, -0.25f, 65504f}, 3).to(DType.F16));
        in.put("c.bf16", Tensor.ofFloats(new float[] {1.0f, 3.140625f}, 2).to(DType.BF16));
        in.put("empty", Tensor.zeros(DType.F32, 0, 4));
        Tensor ints = Tensor.zeros(DType.I32, 3);
        ints.segment().setAtIndex(java.lang.foreign.ValueLayout.JAVA_INT_UNALIGNED, 2, 7);
        in.put("d.idx", ints);
        Path f = dir.resolve("t.safetensors");
        SafetensorsWriter.write(f, in, Map.of("format", "pt", "quantmesh.version", "1"));

        try (SafetensorsFile sf = SafetensorsFile.open(f)) {
            assertEquals(Map.of("format", "pt", "quantmesh.version", "1"), sf.metadata());
            assertEquals(List.of("a.weight", "b.f16", "c.bf16", "empty", "d.idx"),
                    sf.tensors().stream().map(TensorInfo::name).toList());
            assertArrayEquals(new float[] {1, -2.5f, 3, 4, 5, 6}, sf.tensor("a.weight").toFloatArray());
            assertArrayEquals(new long[] {2, 3}, sf.tensor("a.weight").shape());
            assertArrayEquals(new float[] {0.5f, -0.25f, 65504f}, sf.tensor("b.f16").toFloatArray());
            assertEquals(3.140625f, sf.tensor("c.bf16").getFloat(1));
            assertEquals(0, sf.tensor("empty").numel());
            assertEquals(7, sf.tensor("d.idx").getInt(2));
        }
        long headerLen = java.nio.ByteBuffer.wrap(Files.readAllBytes(f), 0, 8)
                .order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong();
        assertEquals(0, headerLen % 8, "header padded to 8 bytes so the data section is aligned");
    }

    @Test
    void uncommittedWriterLeavesNothing() throws Exception {
        Path f = dir.resolve("x.safetensors");
        try (SafetensorsWriter w = SafetensorsWriter.open(f,
                List.of(new TensorSpec("a", DType.F32, new long[] {2}), new TensorSpec("b", DType.F32, new long[] {1})),
                Map.of())) {
            w.write("a", Tensor.ofFloats(new float[] {1, 2}, 2));
            assertThrows(IllegalStateException.class, w::commit, "commit before every tensor is written");
        }
        try (var files = Files.list(dir)) {
            assertEquals(0, files.count(), "no temp or partial file remains");
        }
    }

    @Test
    void writerEnforcesDeclaredOrderAndShape() throws Exception {
        try (SafetensorsWriter w = SafetensorsWriter.open(dir.resolve("y.safetensors"),
                List.of(new TensorSpec("a", DType.F32, new long[] {2})), Map.of())) {
            assertThrows(IllegalStateException.class, () -> w.write("b", Tensor.ofFloats(new float[] {1, 2}, 2)));
            assertThrows(IllegalArgumentException.class, () -> w.write("a", Tensor.ofFloats(new float[] {1, 2, 3}, 3)));
        }
    }

    @Test
    void bf16RoundsToNearestEven() {
        assertEquals((short) 0x3f80, Half.floatToBf16(1.0f));
        assertEquals(1.0f, Half.bf16ToFloat(Half.floatToBf16(Float.intBitsToFloat(0x3f808000)))); // tie -> even
        assertEquals(Float.intBitsToFloat(0x3f820000), Half.bf16ToFloat(Half.floatToBf16(Float.intBitsToFloat(0x3f818000))));
        assertTrue(Float.isNaN(Half.bf16ToFloat(Half.floatToBf16(Float.NaN))));
    }

    @Test
    void shardedCheckpointResolvesEveryTensor() throws Exception {
        Path ck = dir.resolve("ck");
        Files.createDirectories(ck);
        Files.writeString(ck.resolve("config.json"), "{\"model_type\":\"llama\"}");
        SafetensorsWriter.write(ck.resolve("model-00001-of-00002.safetensors"),
                Map.of("x", Tensor.ofFloats(new float[] {1}, 1)), Map.of());
        SafetensorsWriter.write(ck.resolve("model-00002-of-00002.safetensors"),
                Map.of("y", Tensor.ofFloats(new float[] {2, 3}, 2)), Map.of());
        Files.writeString(ck.resolve("model.safetensors.index.json"), """
                {"metadata": {"total_size": 12}, "weight_map": {"x": "model-00001-of-00002.safetensors",
                 "y": "model-00002-of-00002.safetensors"}}""");
        try (HfCheckpoint c = HfCheckpoint.open(ck)) {
            assertEquals("llama", c.config().get("model_type").asText());
            assertEquals(2, c.shards().size());
            assertEquals(3f, c.tensor("y").getFloat(1));
            assertEquals(1f, c.tensor("x").getFloat(0));
        }
    }

    @Test
    void shardIndexCannotEscapeTheDirectory() throws Exception {
        Path ck = dir.resolve("ck2");
        Files.createDirectories(ck);
        Files.writeString(ck.resolve("config.json"), "{}");
        Files.writeString(ck.resolve("model.safetensors.index.json"),
                "{\"weight_map\": {\"x\": \"../../etc/passwd.safetensors\"}}");
        var e = assertThrows(java.io.IOException.class, () -> HfCheckpoint.open(ck));
        assertTrue(e.getMessage().contains("invalid shard"), e.getMessage());
    }
}
