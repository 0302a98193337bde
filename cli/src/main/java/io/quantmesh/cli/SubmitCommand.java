package io.quantmesh.cli;

import com.google.protobuf.Message;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.Submitter;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.Callable;

/**
 * {@code quantmesh submit}: import a model into the store, produce the job, follow it to its checkpoint. The recipe is
 * not checked here on purpose: the mesh rejects what it cannot run and the reason comes back on jobs.failed.
 */
@Command(name = "submit", mixinStandardHelpOptions = true,
        description = "Submit a Hugging Face model directory to a running mesh and stream the job's progress.")
final class SubmitCommand implements Callable<Integer> {
    @Option(names = "--model", required = true, paramLabel = "DIR", description = "Hugging Face model directory")
    Path model;

    @Option(names = "--recipe", required = true, paramLabel = "NAME", description = "e.g. gptq-int2-g128, pcdvq-2.0")
    String recipe;

    @Option(names = "--samples", defaultValue = "0", paramLabel = "N",
            description = "calibration sequences (default: calibration-svc's)")
    int samples;

    @Option(names = "--seq-len", defaultValue = "0", paramLabel = "L",
            description = "calibration sequence length (default: calibration-svc's)")
    int seqLen;

    @Option(names = "--seed", defaultValue = "0", paramLabel = "S", description = "calibration seed (default: 0)")
    long seed;

    @Option(names = "--keep-dense", defaultValue = "", paramLabel = "REGEX",
            description = "weights to keep dense on top of the defaults (full tensor names)")
    String keepDense;

    @Option(names = "--no-wait", description = "print the job id and return")
    boolean noWait;

    @Option(names = "--timeout", defaultValue = "3600", paramLabel = "SECONDS",
            description = "give up following after this long (default: ${DEFAULT-VALUE})")
    long timeoutSeconds;

    @Mixin
    MeshOptions mesh;

    @Override
    public Integer call() throws Exception {
        if (samples < 0 || seqLen < 0) throw new IllegalArgumentException("--samples and --seq-len must be >= 0");
        if (timeoutSeconds < 1) throw new IllegalArgumentException("--timeout must be >= 1");
        if (!Files.isDirectory(model)) throw new java.nio.file.NoSuchFileException(model.toString(), null,
                "not a model directory (import llama2.c checkpoints with quantmesh import-llama2c)");
        MeshConfig cfg = mesh.resolve();
        Outcome o = run(cfg, new Request(model, recipe, samples, seqLen, seed, keepDense), System.out, noWait, Duration.ofSeconds(timeoutSeconds));
        return o.failed() ? 1 : 0;
    }


    /** What to submit: the model directory on this machine and the job's settings. */
    record Request(Path model, String recipe, int samples, int seqLen, long seed, String keepDense) {}

    /** The job and how it ended (null: not followed). */
    record Outcome(String jobId, Message end, JobProgress progress) {
        boolean failed() {
            return end instanceof JobFailed;
        }
    }

    /** Shared with the demo: import, submit, follow, print. */
    static Outcome run(MeshConfig cfg, Request r, PrintStream out, boolean noWait, Duration timeout) throws Exception {
        ArtifactStore store = new ArtifactStore(cfg.storeRoot());
        String name = r.model().toAbsolutePath().normalize().getFileName().toString()
                .replaceAll("[^A-Za-z0-9._-]", "_").replaceAll("^[._-]+", "");
        if (name.isEmpty()) name = "model";
        String modelUri = store.importDirectory(r.model(), name);
        String jobId = Submitter.newJobId(name);
        JobSpec spec = JobSpec.newBuilder().setJobId(jobId).setModel(modelUri).setRecipe(r.recipe())
                .setCalibSamples(r.samples()).setCalibSeqLen(r.seqLen()).setSeed(r.seed()).setKeepDense(r.keepDense())
                .setOutput(ArtifactStore.SCHEME + "jobs/" + jobId + "/checkpoint")
                .setSubmittedAtMs(System.currentTimeMillis()).build();
        try (Submitter s = new Submitter(cfg, Duration.ofSeconds(15))) {
            s.submit(spec);
            out.println("job " + jobId);
            out.println("  model " + modelUri + ", recipe " + r.recipe() + ", mesh " + cfg.bootstrapServers());
            if (noWait) return new Outcome(jobId, null, null);
            JobProgress progress = new JobProgress(out);
            Message end = s.follow(jobId, progress::on, timeout);
            if (end instanceof CheckpointQuantized q) printCheckpoint(store, q, progress, out);
            return new Outcome(jobId, end, progress);
        }
    }

    private static void printCheckpoint(ArtifactStore store, CheckpointQuantized q, JobProgress p, PrintStream out) {
        out.println("checkpoint " + store.resolve(q.getCheckpoint()));
        for (ArtifactRef f : q.getFilesList()) {
            String name = f.getUri().substring(f.getUri().lastIndexOf('/') + 1);
            out.printf("  %-28s %,12d bytes  sha256 %s%n", name, f.getSizeBytes(), f.getSha256());
        }
        out.printf("  bits/weight: %.3f indices only, %.3f everything stored; sum of proxy losses %.6e over %d layers%n",
                q.getIndexBitsPerWeight(), q.getStoredBitsPerWeight(), q.getProxyLoss(), q.getLayers());
        if (p.layerWallMs() > 0) {
            out.printf("  layers: %d ms quantizing, %d ms task wall time on the workers (Kafka + store: %d ms)%n",
                    p.layerComputeMs(), p.layerWallMs(), p.layerWallMs() - p.layerComputeMs());
        }
    }
}
