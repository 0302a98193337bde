package io.quantmesh.core.quantized;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A layer handed from a worker to the assembler through a file is the same record, bit for bit, for every representation. */
class LayerArtifactTest {
    @TempDir
    Path dir;

    @Test
    void everyRepresentationSurvivesTheArtifact() throws IOException {
        for (Map.Entry<String, QuantizedTensor> e : Layers.all(44, 96, 7).entrySet()) {
            QuantizedTensor q = e.getValue();
            Path file = dir.resolve(e.getKey() + ".safetensors");
            LayerArtifact.write(file, q, Map.of("module", "model.layers.0.mlp.up_proj"));
            LayerArtifact.Read back = LayerArtifact.read(file, "model.layers.0.mlp.up_proj");
            assertEquals(q.getClass(), back.layer().getClass(), e.getKey());
            assertEquals(q.layerConfig().json(), back.layer().layerConfig().json(), e.getKey());
            assertArrayEquals(Layers.bits(q.dequantize()), Layers.bits(back.layer().dequantize()), e.getKey());
            assertEquals("model.layers.0.mlp.up_proj", back.metadata().get("module"));
            // writing the read-back record again gives the same bytes: redelivered work is idempotent
            Path again = dir.resolve(e.getKey() + ".again.safetensors");
            LayerArtifact.write(again, back.layer(), Map.of("module", "model.layers.0.mlp.up_proj"));
            assertArrayEquals(Files.readAllBytes(file), Files.readAllBytes(again), e.getKey());
        }
    }

    @Test
    void aFileThatIsNotALayerArtifactIsRejected() throws IOException {
        Path file = dir.resolve("plain.safetensors");
        SafetensorsWriter.write(file, Map.of("x", Tensor.ofFloats(new float[] {1, 2}, 2)), Map.of());
        var e = assertThrows(IllegalArgumentException.class, () -> LayerArtifact.read(file, "m"));
        assertEquals("plain.safetensors is not a quantmesh.layer.v1 layer artifact", e.getMessage().substring(e.getMessage().lastIndexOf('/') + 1));
    }
}
