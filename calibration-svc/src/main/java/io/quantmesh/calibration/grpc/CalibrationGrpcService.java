package io.quantmesh.calibration.grpc;

import io.grpc.Context;
import io.grpc.Status;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import io.quantmesh.calibration.Cancellation;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;
import io.quantmesh.proto.v1.CollectHessiansProgress;
import io.quantmesh.proto.v1.CollectHessiansRequest;
import io.quantmesh.proto.v1.HessianSite;
import io.quantmesh.proto.v1.HessiansCollected;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The gRPC adapter of calibration-svc: resolves the request's references under the artifact root, runs a
 * {@link HessianJob} with the call's cancellation and deadline, streams progress (at most every
 * {@code progressIntervalMs}, and after the last sequence) and maps failures to statuses with a message.
 * At most {@code maxConcurrentJobs} collections run at once; more get RESOURCE_EXHAUSTED.
 */
public final class CalibrationGrpcService extends CalibrationServiceGrpc.CalibrationServiceImplBase {
    private static final Logger log = LoggerFactory.getLogger(CalibrationGrpcService.class);

    private final ArtifactStore artifacts;
    private final HessianJob job;
    private final Semaphore slots;
    private final long progressIntervalNanos;

    public CalibrationGrpcService(ArtifactStore artifacts, HessianJob job, int maxConcurrentJobs,
                                  long progressIntervalMs) {
        this.artifacts = artifacts;
        this.job = job;
        this.slots = new Semaphore(maxConcurrentJobs);
        this.progressIntervalNanos = TimeUnit.MILLISECONDS.toNanos(progressIntervalMs);
    }

    @Override
    public void collectHessians(CollectHessiansRequest req, StreamObserver<CollectHessiansProgress> out) {
        Context ctx = Context.current();
        // after a cancel, progress messages are dropped quietly; the work itself stops at the next check
        if (out instanceof ServerCallStreamObserver<CollectHessiansProgress> call) call.setOnCancelHandler(() -> {});
        Cancellation cancel = () -> {
            if (ctx.isCancelled()) throw new CancellationException("request cancelled or past its deadline");
        };
        if (!slots.tryAcquire()) {
            out.onError(Status.RESOURCE_EXHAUSTED.withDescription("calibration-svc is busy with "
                    + "other collections; retry later").asRuntimeException());
            return;
        }
        try {
            HessianJob.Spec spec = spec(req);
            long t0 = System.nanoTime();
            long[] lastSent = {t0 - progressIntervalNanos};
            HessianJob.Result r = job.run(spec, (done, total, tokens) -> {
                long now = System.nanoTime();
                if (done < total && now - lastSent[0] < progressIntervalNanos) return;
                lastSent[0] = now;
                out.onNext(progress(done, total, tokens, now - t0).build());
            }, cancel);
            out.onNext(progress(r.samples(), r.samples(), (long) r.samples() * r.seqLen(), r.elapsedNanos())
                    .setResult(result(r)).build());
            out.onCompleted();
        } catch (IllegalArgumentException e) {
            out.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        } catch (NoSuchFileException e) {
            out.onError(Status.NOT_FOUND.withDescription(e.getMessage()).asRuntimeException());
        } catch (CancellationException e) {
            boolean late = ctx.getDeadline() != null && ctx.getDeadline().isExpired();
            out.onError((late ? Status.DEADLINE_EXCEEDED : Status.CANCELLED)
                    .withDescription("CollectHessians: " + e.getMessage()).asRuntimeException());
        } catch (IOException | RuntimeException | OutOfMemoryError e) {
            log.warn("CollectHessians failed", e);
            out.onError(Status.INTERNAL.withDescription("CollectHessians: " + e).asRuntimeException());
        } finally {
            slots.release();
        }
    }

    private HessianJob.Spec spec(CollectHessiansRequest req) throws IOException {
        if (req.getModel().isBlank()) throw new IllegalArgumentException("model is required");
        if (req.getOutput().isBlank()) throw new IllegalArgumentException("output is required");
        Path model = artifacts.resolve(req.getModel(), "model");
        Path output = artifacts.resolve(req.getOutput(), "output");
        if (Files.isDirectory(output)) {
            throw new IllegalArgumentException("output '" + req.getOutput() + "' is a directory");
        }
        return new HessianJob.Spec(model, req.getModel(), req.getCorporaList(),
                req.hasSamples() ? req.getSamples() : null, req.hasSeqLen() ? req.getSeqLen() : null, req.getSeed(),
                output);
    }

    private static CollectHessiansProgress.Builder progress(int done, int total, long tokens, long nanos) {
        return CollectHessiansProgress.newBuilder().setSequencesDone(done).setSequencesTotal(total)
                .setTokensDone(tokens).setElapsedMs(TimeUnit.NANOSECONDS.toMillis(nanos));
    }

    private HessiansCollected result(HessianJob.Result r) {
        HessiansCollected.Builder b = HessiansCollected.newBuilder()
                .setArtifact(ArtifactRef.newBuilder().setUri(artifacts.uri(r.artifact())).setSha256(r.sha256())
                        .setSizeBytes(r.sizeBytes()))
                .setSamples(r.samples()).setSeqLen(r.seqLen()).addAllCorpora(r.corpora()).setSeed(r.seed())
                .setCalibrationSha256(r.calibrationSha256());
        for (HessianJob.Site s : r.sites()) {
            b.addSites(HessianSite.newBuilder().setKey(s.site().key()).addAllLinears(s.site().weights())
                    .setDim(s.dim()).setTokens(s.tokens()));
        }
        return b.build();
    }
}
