package io.quantmesh.core.codec;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;
import java.io.IOException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PolarCodebookFileTest {
    @TempDir
    Path dir;

    private Path write(String kind, Map<String, Tensor> tensors) throws IOException {
        Path f = dir.resolve(kind + tensors.size() + ".safetensors");
        Map<String, String> meta = new LinkedHashMap<>();
        meta.put("quantmesh.format", "codebook/1");
        meta.put("quantmesh.codebook.kind", kind);
        meta.put("quantmesh.codebook.id", "polar-k2-a1-b1-s0-v1");
        SafetensorsWriter.write(f, tensors, meta);
        return f;
    }

    @Test
    void readsDirectionsAndMagnitudes() throws IOException {
        float[] dirs = {1, 0, 0, 1};
        float[] mags = {0.5f, 1.5f};
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("directions", Tensor.ofFloats(dirs, 2, 2));
        t.put("magnitudes", Tensor.ofFloats(mags, 2));
        PolarCodebookFile.Loaded l = PolarCodebookFile.read(write("polar", t));
        assertEquals("polar-k2-a1-b1-s0-v1", l.id());
        assertEquals(2, l.codec().k());
        assertArrayEquals(dirs, l.codec().directions());
        assertArrayEquals(mags, l.codec().magnitudes());
    }

    @Test
    void rejectsOtherKindsAndMissingTensors() throws IOException {
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("centroids", Tensor.ofFloats(new float[] {1, 2}, 1, 2));
        var e = assertThrows(IllegalArgumentException.class, () -> PolarCodebookFile.read(write("kmeans", t)));
        assertTrue(e.getMessage().contains("is not a codebook/1 polar codebook"), e.getMessage());
        var e2 = assertThrows(IllegalArgumentException.class, () -> PolarCodebookFile.read(write("polar", t)));
        assertTrue(e2.getMessage().contains("has no 'directions' tensor"), e2.getMessage());
    }
}
