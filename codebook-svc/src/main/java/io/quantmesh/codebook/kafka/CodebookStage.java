package io.quantmesh.codebook.kafka;

import com.google.protobuf.Parser;
import io.quantmesh.codebook.Cancellation;
import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.JobSpecs;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.CodebookArtifact;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.Timing;

import java.io.IOException;
import java.util.List;

/**
 * codebook-svc on Kafka: a {@link CalibrationCompleted} → the universal codebooks its recipe needs
 * ({@link Recipe#codebooks()}), from the {@link CodebookCache} under the store root
 * ({@code artifact:codebooks/<id>.safetensors}, shared by every job) or built there now → {@link CodebooksCompleted}
 * (an empty list for scalar recipes). A universal codebook is a pure function of its id, built by the same
 * {@code PolarCodebook.build} as the CLI's {@code quantize}, so the mesh codes against the very same codebook;
 * a redelivery finds it cached and re-emits an equal event.
 */
public final class CodebookStage implements Stage<CalibrationCompleted> {
    private final ArtifactStore store;
    private final CodebookCache cache;
    private final Parallel parallel;
    private final String worker;

    public CodebookStage(ArtifactStore store, Parallel parallel, String worker) throws IOException {
        this.store = store;
        this.cache = new CodebookCache(store.root());
        this.parallel = parallel;
        this.worker = worker;
    }

    /** Where codebook {@code id} lives in the store (the cache's layout). */
    public static String codebookUri(String id) {
        return ArtifactStore.SCHEME + "codebooks/" + id + ".safetensors";
    }

    @Override
    public String name() {
        return "codebook";
    }

    @Override
    public Topic input() {
        return Topic.CALIBRATED;
    }

    @Override
    public Parser<CalibrationCompleted> parser() {
        return CalibrationCompleted.parser();
    }

    @Override
    public JobSpec spec(CalibrationCompleted event) {
        return event.getSpec();
    }

    @Override
    public String unit(CalibrationCompleted event) {
        return "";
    }

    @Override
    public List<Emit> handle(CalibrationCompleted event) throws Exception {
        long startedMs = System.currentTimeMillis();
        JobSpec spec = event.getSpec();
        Recipe recipe = JobSpecs.recipe(spec);
        CodebooksCompleted.Builder done = CodebooksCompleted.newBuilder().setSpec(spec).setHessians(event.getHessians());
        double buildSeconds = 0;
        for (String id : recipe.codebooks()) {
            CodebookCache.StoredPolar built = cache.polar(PolarKey.parse(id), parallel, Cancellation.NONE);
            buildSeconds += built.buildSeconds();
            // described from the file itself, not the cache's memory: the sha256 the workers will verify
            StoredArtifact a = store.describe(codebookUri(id));
            done.addCodebooks(CodebookArtifact.newBuilder().setId(id).setArtifact(ArtifactRef.newBuilder()
                    .setUri(a.uri()).setSha256(a.sha256()).setSizeBytes(a.sizeBytes())));
        }
        done.setTiming(Timing.newBuilder().setStartedMs(startedMs).setFinishedMs(System.currentTimeMillis())
                .setComputeMs(Math.round(buildSeconds * 1000)).setWorker(worker));
        return List.of(new Emit(Topic.CODEBOOKS, spec.getJobId(), done.build()));
    }
}
