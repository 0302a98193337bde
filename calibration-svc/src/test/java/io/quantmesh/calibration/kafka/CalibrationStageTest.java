package io.quantmesh.calibration.kafka;

import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.junit.jupiter.api.Assertions.*;

/** The calibration stage's handle() on the real stories260K in an artifact store: 16 × 64-token calibration. */
class CalibrationStageTest {
    @TempDir
    static Path tmp;
    static ArtifactStore store;
    static String modelUri;
    static CalibrationStage stage;

    @BeforeAll
    static void importModel() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path m = Shared.resolve("models/stories260K"), dense = tmp.resolve("stories260K");
        Llama2cImporter.importTo(m.resolve("stories260K.bin"), m.resolve("tok512.bin"), dense);
        store = new ArtifactStore(tmp.resolve("store"));
        modelUri = store.importDirectory(dense, "stories260K");
        stage = CalibrationStage.create(store, null, "w1");
    }

    static JobSubmitted submitted(String job, String model, String recipe) {
        return JobSubmitted.newBuilder().setSpec(JobSpec.newBuilder().setJobId(job).setModel(model).setRecipe(recipe)
                .setCalibSamples(16).setCalibSeqLen(64).setSeed(3).setOutput("artifact:jobs/" + job + "/checkpoint"))
                .build();
    }

    static String reason(JobSubmitted e) throws IOException {
        BadInputException x = assertThrows(BadInputException.class, () -> stage.handle(e));
        assertFalse(x.getMessage().contains("\n"), "one line: " + x.getMessage());
        String job = e.getSpec().getJobId();
        if (!job.contains("..")) {
            Path dir = store.root().resolve("jobs").resolve(job);
            if (Files.isDirectory(dir)) {
                try (var s = Files.list(dir)) {
                    assertEquals(0, s.count(), "no artifact and no temporary file for a rejected job");
                }
            }
        }
        return x.getMessage();
    }

    @Test
    void writesTheHessianArtifactAndRewritesTheSameBytesOnRedelivery() throws Exception {
        JobSubmitted e = submitted("j-1", modelUri, "gptq-int2-g128");
        List<Emit> emits = stage.handle(e);
        assertEquals(1, emits.size());
        assertEquals(Topic.CALIBRATED, emits.get(0).topic());
        assertEquals("j-1", emits.get(0).key());
        CalibrationCompleted c = (CalibrationCompleted) emits.get(0).value();
        assertEquals(e.getSpec(), c.getSpec());
        assertEquals("artifact:jobs/j-1/hessians.safetensors", c.getHessians().getUri());
        assertEquals(16 * 64, c.getTokens());
        assertEquals("w1", c.getTiming().getWorker());
        StoredArtifact ref = new StoredArtifact(c.getHessians().getUri(), c.getHessians().getSha256(),
                c.getHessians().getSizeBytes());
        Path file = store.verified(ref);
        try (var f = io.quantmesh.core.safetensors.SafetensorsFile.open(file)) {
            assertEquals("quantmesh.hessians.v1", f.metadata().get("format"));
            assertEquals(modelUri, f.metadata().get("model"), "the store URI, never a host path");
        }
        CalibrationCompleted again = (CalibrationCompleted) stage.handle(e).get(0).value();
        assertEquals(c.getHessians(), again.getHessians(), "a redelivery rewrites identical bytes");
        try (var s = Files.list(file.getParent())) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void badInputFailsFastWithAOneLineReason() throws Exception {
        assertTrue(reason(submitted("j-r", modelUri, "int1")).startsWith("unknown recipe 'int1'; known recipes: "));
        assertTrue(reason(submitted("j-m", "artifact:models/absent", "gptq-int2-g128"))
                .contains("models/absent is not a directory in the artifact store"));
        assertTrue(reason(submitted("j-u", "artifact:../../etc", "gptq-int2-g128")).startsWith("model: "));
        assertTrue(reason(submitted("j-a", "/etc", "gptq-int2-g128")).contains("absolute"));
        assertTrue(reason(JobSubmitted.newBuilder().setSpec(submitted("j-o", modelUri, "gptq-int2-g128").getSpec()
                .toBuilder().setOutput("artifact:../out")).build()).startsWith("output: "));
        assertTrue(reason(submitted("../j", modelUri, "gptq-int2-g128")).startsWith("job id '../j'"));
        assertTrue(reason(JobSubmitted.newBuilder().setSpec(submitted("j-c", modelUri, "gptq-int2-g128").getSpec()
                .toBuilder().addCalibCorpora("no-such-corpus")).build()).contains("unknown corpus 'no-such-corpus'"));

        // a checkpoint whose tensor file is cut short: the reader's reason, not a crash
        Path src = store.resolve(modelUri), corrupt = tmp.resolve("corrupt");
        Files.createDirectories(corrupt);
        try (var s = Files.list(src)) {
            for (Path p : s.toList()) Files.copy(p, corrupt.resolve(p.getFileName()));
        }
        Path st = corrupt.resolve("model.safetensors");
        Files.write(st, java.util.Arrays.copyOf(Files.readAllBytes(st), (int) Files.size(st) / 2));
        String uri = store.importDirectory(corrupt, "corrupt");
        String why = reason(submitted("j-x", uri, "gptq-int2-g128"));
        assertTrue(why.startsWith("cannot open model " + uri + ": "), why);
    }
}
