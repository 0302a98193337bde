package io.quantmesh.quant.kafka;

import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.store.ArtifactCorruptException;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.quant.LayerQuantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;

import static org.junit.jupiter.api.Assertions.*;

/** The worker's per-file-version sha256 check and its per-key quantizer pool. */
class VerifiedArtifactsTest {
    @Test
    void aFileIsHashedOncePerVersionAndEveryOtherVersionIsCheckedAgain(@TempDir Path dir) throws Exception {
        ArtifactStore store = new ArtifactStore(dir);
        VerifiedArtifacts v = new VerifiedArtifacts(store);
        StoredArtifact a = store.put("artifact:jobs/j/h.bin", new byte[] {1, 2, 3, 4});
        Path p = v.verified(a);
        assertEquals(store.resolve(a.uri()), p);
        assertEquals(p, v.verified(a), "the same version again");

        // the store replaced it (atomic rename: a new file): the old sha256 no longer holds
        store.put("artifact:jobs/j/h.bin", new byte[] {1, 2, 3, 5});
        assertThrows(ArtifactCorruptException.class, () -> v.verified(a));

        // bytes changed in place behind the store's back, with a new modification time: checked again
        StoredArtifact b = store.put("artifact:jobs/j/g.bin", new byte[] {9, 9});
        v.verified(b);
        Path g = store.resolve(b.uri());
        Files.write(g, new byte[] {9, 8});
        Files.setLastModifiedTime(g, FileTime.fromMillis(Files.getLastModifiedTime(g).toMillis() + 5000));
        assertThrows(ArtifactCorruptException.class, () -> v.verified(b));

        Files.delete(g);
        assertThrows(NoSuchFileException.class, () -> v.verified(b));
        assertThrows(IllegalArgumentException.class, () -> v.verified(new StoredArtifact("artifact:../x", a.sha256(), 4)));
    }

    @Test
    void thePoolHandsEachBorrowerItsOwnQuantizerAndKeepsThemPerKey() {
        Recipe r = Recipe.named("gptq-int2-g128");
        try (QuantizerPool pool = new QuantizerPool()) {
            LayerQuantizer a = pool.borrow("k", () -> new LayerQuantizer(r, null, 1));
            LayerQuantizer b = pool.borrow("k", () -> new LayerQuantizer(r, null, 1));
            assertNotSame(a, b, "concurrent tasks never share a quantizer");
            pool.release("k", a);
            pool.release("k", b);
            assertEquals(2, pool.idle("k"));
            assertSame(b, pool.borrow("k", () -> fail("an idle one exists")));
            pool.release("k", b);
            for (String key : new String[] {"k2", "k3", "k4", "k5"}) pool.release(key, new LayerQuantizer(r, null, 1));
            assertEquals(0, pool.idle("k"), "the least recently used key is dropped (and its quantizers closed)");
            assertEquals(1, pool.idle("k5"));
        }
    }
}
