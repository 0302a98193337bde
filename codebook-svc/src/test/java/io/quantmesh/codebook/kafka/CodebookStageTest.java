package io.quantmesh.codebook.kafka;

import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.PolarCodebook;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.codec.PolarCodebookFile;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.CodebookArtifact;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobSpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

class CodebookStageTest {
    static final ArtifactRef HESSIANS = ArtifactRef.newBuilder().setUri("artifact:jobs/j/hessians.safetensors")
            .setSha256("ab".repeat(32)).setSizeBytes(123).build();

    static CalibrationCompleted calibrated(String recipe) {
        return CalibrationCompleted.newBuilder().setSpec(JobSpec.newBuilder().setJobId("j").setRecipe(recipe))
                .setHessians(HESSIANS).setTokens(1024).build();
    }

    static CodebooksCompleted handle(CodebookStage stage, String recipe) throws Exception {
        List<Emit> emits = stage.handle(calibrated(recipe));
        assertEquals(1, emits.size());
        assertEquals(Topic.CODEBOOKS, emits.get(0).topic());
        assertEquals("j", emits.get(0).key());
        CodebooksCompleted c = (CodebooksCompleted) emits.get(0).value();
        assertEquals(HESSIANS, c.getHessians(), "passed through");
        return c;
    }

    @Test
    void pcdvqGetsTheClisUniversalCodebookSharedAcrossJobs(@TempDir Path dir) throws Exception {
        ArtifactStore store = new ArtifactStore(dir);
        CodebooksCompleted c = handle(new CodebookStage(store, Parallel.common(), "w"), "pcdvq-2.0");
        assertEquals(1, c.getCodebooksCount());
        CodebookArtifact a = c.getCodebooks(0);
        assertEquals("polar-k8-a14-b2-s0-v1", a.getId());
        assertEquals("artifact:codebooks/polar-k8-a14-b2-s0-v1.safetensors", a.getArtifact().getUri());
        Path file = store.verified(new StoredArtifact(a.getArtifact().getUri(), a.getArtifact().getSha256(),
                a.getArtifact().getSizeBytes()));
        // what quant-svc reads back is exactly the codebook `quantmesh quantize` builds in process
        PolarCodec stored = PolarCodebookFile.read(file).codec();
        PolarCodec cli = PolarCodebook.build(PolarKey.parse(a.getId()), Parallel.common(), Cancellation.NONE).codec();
        assertArrayEquals(cli.directions(), stored.directions());
        assertArrayEquals(cli.magnitudes(), stored.magnitudes());

        // another job (or a redelivery, or another replica over the same volume) finds it in the cache
        CodebooksCompleted again = handle(new CodebookStage(store, Parallel.common(), "w2"), "pcdvq-2.0");
        assertEquals(c.getCodebooksList(), again.getCodebooksList());
        assertEquals(0, again.getTiming().getComputeMs(), "nothing built");
    }

    @Test
    void scalarRecipesNeedNoCodebookAndUnknownRecipesFail(@TempDir Path dir) throws Exception {
        CodebookStage stage = new CodebookStage(new ArtifactStore(dir), Parallel.common(), "w");
        assertEquals(0, handle(stage, "gptq-int2-g128").getCodebooksCount());
        BadInputException e = assertThrows(BadInputException.class, () -> stage.handle(calibrated("int1")));
        assertTrue(e.getMessage().startsWith("unknown recipe 'int1'"), e.getMessage());
    }
}
