package io.quantmesh.calibration.kafka;

import com.google.protobuf.Parser;
import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.JobSpecs;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.mesh.Stage;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import io.quantmesh.proto.v1.Timing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;

/**
 * calibration-svc on Kafka: a {@link JobSubmitted} → the job's Hessian artifact
 * ({@code artifact:jobs/<id>/hessians.safetensors}, via {@link HessianJob}, the code the CLI and the gRPC service run)
 * → {@link CalibrationCompleted}. The first stage of a job, so it rejects what can be rejected before any compute:
 * a malformed job id, an unknown recipe, a model or output URI outside the store, a missing or unreadable model.
 * Those throw {@link BadInputException} with a one-line reason (the runner fails the job without retrying).
 * The artifact is deterministic (no clock, host path or thread count goes in), so a redelivery rewrites equal bytes.
 */
public final class CalibrationStage implements Stage<JobSubmitted> {

    private final ArtifactStore store;
    private final HessianJob job;
    private final String worker;

    public CalibrationStage(ArtifactStore store, HessianJob job, String worker) {
        this.store = store;
        this.job = job;
        this.worker = worker;
    }

    /** With the corpora under {@code corpora} (null: the shared ones) and the default Hessian memory budget. */
    public static CalibrationStage create(ArtifactStore store, Path corpora, String worker) throws IOException {
        Corpora c = corpora == null ? Corpora.shared() : new Corpora(corpora);
        return new CalibrationStage(store, new HessianJob(c, HessianCollector.withDefaultBudget()), worker);
    }

    /** Where a job's Hessians go. */
    public static String hessiansUri(String jobId) {
        return ArtifactStore.SCHEME + "jobs/" + jobId + "/hessians.safetensors";
    }

    @Override
    public String name() {
        return "calibration";
    }

    @Override
    public Topic input() {
        return Topic.SUBMITTED;
    }

    @Override
    public Parser<JobSubmitted> parser() {
        return JobSubmitted.parser();
    }

    @Override
    public JobSpec spec(JobSubmitted event) {
        return event.getSpec();
    }

    @Override
    public String unit(JobSubmitted event) {
        return "";
    }

    @Override
    public List<Emit> handle(JobSubmitted event) throws Exception {
        long startedMs = System.currentTimeMillis();
        JobSpec spec = event.getSpec();
        JobSpecs.jobId(spec);
        JobSpecs.recipe(spec);   // an unknown recipe fails before any calibration work
        Path model = resolve(spec.getModel(), "model");
        resolve(spec.getOutput(), "output");   // a checkpoint that could never be written fails now, not at the end
        if (!Files.isDirectory(model)) {
            throw new BadInputException("model " + spec.getModel() + " is not a directory in the artifact store");
        }
        HessianJob.Result[] result = new HessianJob.Result[1];
        StoredArtifact hessians;
        try {
            hessians = store.put(hessiansUri(spec.getJobId()), temp -> result[0] = job.run(new HessianJob.Spec(model,
                    spec.getModel(), spec.getCalibCorporaList(), spec.getCalibSamples() > 0 ? spec.getCalibSamples() : null,
                    spec.getCalibSeqLen() > 0 ? spec.getCalibSeqLen() : null, spec.getSeed(), temp),
                    (done, total, tokens) -> {}, Cancellation.NONE));
        } catch (IllegalArgumentException e) {
            // HessianJob's bad input: bad sizes or corpora, a model it cannot open (corrupt files), too long a seq_len
            throw new BadInputException(StageRunner.oneLine(e));
        } catch (NoSuchFileException e) {
            throw new BadInputException("model " + spec.getModel() + ": " + StageRunner.oneLine(e));
        }
        HessianJob.Result r = result[0];
        CalibrationCompleted done = CalibrationCompleted.newBuilder().setSpec(spec)
                .setHessians(ArtifactRef.newBuilder().setUri(hessians.uri()).setSha256(hessians.sha256())
                        .setSizeBytes(hessians.sizeBytes()))
                .setTokens((long) r.samples() * r.seqLen())
                .setTiming(Timing.newBuilder().setStartedMs(startedMs).setFinishedMs(System.currentTimeMillis())
                        .setComputeMs(r.elapsedNanos() / 1_000_000).setWorker(worker))
                .build();
        return List.of(new Emit(Topic.CALIBRATED, spec.getJobId(), done));
    }

    private Path resolve(String uri, String what) {
        try {
            return store.resolve(uri, what);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(StageRunner.oneLine(e));
        }
    }
}
