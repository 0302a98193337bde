package io.quantmesh.codebook;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.quantmesh.core.parallel.Parallel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CodebookCacheTest {
    @Test
    void polarKeyRebuildsTheSameBytesAndHitsTheCache(@TempDir Path a, @TempDir Path b) throws IOException {
        PolarKey key = new PolarKey(8, 9, 2, 7, 1);
        CodebookCache.StoredPolar first = new CodebookCache(a).polar(key, Parallel.ofThreads(1), Cancellation.NONE);
        CodebookCache.StoredPolar other;
        try (Parallel two = Parallel.ofThreads(2)) {
            other = new CodebookCache(b).polar(key, two, Cancellation.NONE);
        }
        assertFalse(first.cached());
        assertArrayEquals(Files.readAllBytes(first.file().path()), Files.readAllBytes(other.file().path()), "bit-identical rebuild");
        assertEquals(first.file().sha256(), other.file().sha256());
        assertEquals("artifact:codebooks/polar-k8-a9-b2-s7-v1.safetensors", first.file().uri());

        // a fresh cache over the same directory loads the file instead of building
        CodebookCache.StoredPolar again = new CodebookCache(a).polar(key, Parallel.common(), Cancellation.NONE);
        assertTrue(again.cached());
        assertArrayEquals(first.codebook().directions(), again.codebook().directions());
        assertArrayEquals(first.codebook().latticePoints(), again.codebook().latticePoints());
        assertArrayEquals(first.codebook().magnitudes(), again.codebook().magnitudes());
        assertEquals(first.metadata(), again.metadata());
        assertEquals("E8", again.metadata().get("lattice"));
    }

    @Test
    void kmeansIsNamedByItsInputsAndValidatedOnLoad(@TempDir Path dir) throws IOException {
        CodebookCache cache = new CodebookCache(dir);
        float[] x = new SeededGaussian(1).gaussians(400 * 4);
        WeightedKMeans.Spec spec = new WeightedKMeans.Spec(4, 16, 3, 50, 0);
        CodebookCache.StoredKMeans s = cache.kmeans(x, null, 400, spec, Parallel.common(), Cancellation.NONE);
        assertFalse(s.cached());
        assertTrue(s.id().startsWith("kmeans-k4-c16-"));
        CodebookCache.StoredKMeans t = new CodebookCache(dir).kmeans(x, null, 400, spec, Parallel.common(), Cancellation.NONE);
        assertTrue(t.cached());
        assertArrayEquals(s.codebook().centroids(), t.codebook().centroids());
        float[] w = new float[400];
        java.util.Arrays.fill(w, 2f);
        assertTrue(!s.id().equals(KMeansCodebook.idFor(x, w, 400, spec)), "weights are part of the id");

        assertTrue(cache.get("polar-k8-a9-b2-s0-v1").isEmpty());
        assertThrows(IllegalArgumentException.class, () -> cache.get("../../etc/passwd"));
        assertThrows(IllegalArgumentException.class, () -> cache.resolveArtifact("artifact:../outside"));
        assertThrows(IllegalArgumentException.class, () -> cache.resolveArtifact("file:/etc/passwd"));
        // a damaged file is reported, not silently used
        Path bad = cache.pathOf("kmeans-k4-c16-0000000000000000");
        Files.write(bad, new byte[] {1, 2, 3});
        assertThrows(IOException.class, () -> new CodebookCache(dir).get("kmeans-k4-c16-0000000000000000"));
    }
}
