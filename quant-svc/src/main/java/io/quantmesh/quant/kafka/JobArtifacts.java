package io.quantmesh.quant.kafka;

import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.store.ArtifactCorruptException;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.core.store.StoredArtifact;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.Timing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * What the three quant-svc stages read from a job's spec and the artifact store, with every bad reference mapped to
 * a {@link BadInputException} that names it (the job then fails at once instead of being retried).
 */
final class JobArtifacts {
    private JobArtifacts() {}

    /** Where the worker of layer {@code index} writes its artifact; the planner and the assembler agree on it. */
    static String layerUri(String jobId, int index) {
        return ArtifactStore.SCHEME + "jobs/" + jobId + "/layers/" + String.format("%05d", index) + ".safetensors";
    }

    /**
     * The sha256 and size of layer {@code index}'s artifact, written by the worker after the artifact itself: the
     * stateless assembler verifies every layer it reads against it, and a layer without its digest is not done yet
     * (a worker killed between the two writes has its task redelivered, which writes both again).
     */
    static String digestUri(String jobId, int index) {
        return ArtifactStore.SCHEME + "jobs/" + jobId + "/layer-digests/" + String.format("%05d", index) + ".sha256";
    }

    static void writeDigest(ArtifactStore store, String jobId, int index, StoredArtifact layer) throws IOException {
        store.put(digestUri(jobId, index), (layer.sha256() + " " + layer.sizeBytes() + "\n")
                .getBytes(StandardCharsets.US_ASCII));
    }

    /** The layer's recorded sha256 and size, or null while there is no digest. */
    static StoredArtifact readDigest(ArtifactStore store, String jobId, int index) throws IOException {
        Path p = resolve(store, digestUri(jobId, index), "layer digest");
        if (!Files.isRegularFile(p)) return null;
        String[] f = Files.readString(p, StandardCharsets.US_ASCII).trim().split(" ");
        try {
            return new StoredArtifact(layerUri(jobId, index), f[0], Long.parseLong(f[1]));
        } catch (RuntimeException e) {
            throw new BadInputException("layer digest " + digestUri(jobId, index) + " is malformed");
        }
    }

    /** spec.keep_dense as the CLI's --keep-dense pattern; empty = none. */
    static Pattern keepDense(JobSpec spec) {
        if (spec.getKeepDense().isEmpty()) return null;
        try {
            return Pattern.compile(spec.getKeepDense());
        } catch (PatternSyntaxException e) {
            throw new BadInputException("keep_dense '" + spec.getKeepDense() + "' is not a regular expression: "
                    + e.getDescription());
        }
    }

    /** A URI of the spec (model, output) as a path under the store; outside it is bad input. */
    static Path resolve(ArtifactStore store, String uri, String what) {
        try {
            return store.resolve(uri, what);
        } catch (IllegalArgumentException e) {
            throw new BadInputException(e.getMessage());
        }
    }

    /** The job's dense model; a missing or unreadable checkpoint is bad input with the reader's reason. */
    static HfCheckpoint openModel(ArtifactStore store, JobSpec spec) {
        Path dir = resolve(store, spec.getModel(), "model");
        try {
            return HfCheckpoint.open(dir);
        } catch (IOException | RuntimeException e) {
            throw new BadInputException("cannot open model " + spec.getModel() + ": " + StageRunner.oneLine(e));
        }
    }

    /**
     * The artifact's path after its size and sha256 were checked. A mismatch or a URI outside the store is bad input
     * (the bytes will not change by retrying: every put is atomic); an absent file stays a retryable IOException.
     */
    static Path verified(VerifiedArtifacts cache, ArtifactRef ref, String what) throws IOException {
        try {
            return cache.verified(stored(ref));
        } catch (IllegalArgumentException e) {
            throw new BadInputException(what + ": " + e.getMessage());
        } catch (ArtifactCorruptException e) {
            throw new BadInputException(what + " " + ref.getUri() + " is corrupt: " + StageRunner.oneLine(e));
        }
    }

    static StoredArtifact stored(ArtifactRef r) {
        return new StoredArtifact(r.getUri(), r.getSha256(), r.getSizeBytes());
    }

    static ArtifactRef ref(StoredArtifact a) {
        return ArtifactRef.newBuilder().setUri(a.uri()).setSha256(a.sha256()).setSizeBytes(a.sizeBytes()).build();
    }

    /** @param computeNanos the stage's own computation, without Kafka and store I/O */
    static Timing timing(long startedMs, long computeNanos, String worker) {
        return Timing.newBuilder().setStartedMs(startedMs).setFinishedMs(System.currentTimeMillis())
                .setComputeMs((computeNanos + 500_000) / 1_000_000).setWorker(worker).build();
    }
}
