package io.quantmesh.calibration.grpc;

import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;
import io.quantmesh.proto.v1.CollectHessiansProgress;
import io.quantmesh.proto.v1.CollectHessiansRequest;
import io.quantmesh.proto.v1.HessiansCollected;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** CalibrationService in process over the real stories260K model: results, statuses and messages. */
class CalibrationGrpcServiceTest {
    @TempDir
    static Path store;
    static Server server;
    static ManagedChannel channel;
    static CalibrationServiceGrpc.CalibrationServiceBlockingStub stub;

    @BeforeAll
    static void start() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Llama2cImporter.importTo(Shared.resolve("models/stories260K/stories260K.bin"),
                Shared.resolve("models/stories260K/tok512.bin"), store.resolve("models/stories260K"));
        String name = InProcessServerBuilder.generateName();
        // progress after every sequence (interval 0) so the stream's messages can be counted
        CalibrationGrpcService service = new CalibrationGrpcService(new ArtifactStore(store),
                new HessianJob(Corpora.shared(), HessianCollector.withDefaultBudget()), 1, 0);
        server = InProcessServerBuilder.forName(name).directExecutor().addService(service).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = CalibrationServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static CollectHessiansRequest.Builder request() {
        return CollectHessiansRequest.newBuilder().setModel("artifact:models/stories260K").setSamples(4)
                .setSeqLen(64).setSeed(3).setOutput("artifact:jobs/1/hessians.safetensors");
    }

    static List<CollectHessiansProgress> collect(CollectHessiansRequest req) {
        List<CollectHessiansProgress> all = new ArrayList<>();
        stub.collectHessians(req).forEachRemaining(all::add);
        return all;
    }

    @Test
    void streamsProgressPerSequenceThenTheArtifact() throws IOException {
        List<CollectHessiansProgress> msgs = collect(request().addCorpora("moby-dick").addCorpora("austen").build());
        assertEquals(5, msgs.size()); // 4 sequences, then the result
        for (int i = 0; i < 4; i++) {
            assertEquals(i + 1, msgs.get(i).getSequencesDone());
            assertEquals(4, msgs.get(i).getSequencesTotal());
            assertEquals(64L * (i + 1), msgs.get(i).getTokensDone());
            assertFalse(msgs.get(i).hasResult());
        }
        CollectHessiansProgress last = msgs.get(4);
        assertTrue(last.hasResult());
        HessiansCollected r = last.getResult();
        assertEquals("artifact:jobs/1/hessians.safetensors", r.getArtifact().getUri());
        Path file = store.resolve("jobs/1/hessians.safetensors");
        assertEquals(Files.size(file), r.getArtifact().getSizeBytes());
        assertEquals(io.quantmesh.calibration.HessianArtifact.sha256(file), r.getArtifact().getSha256());
        assertEquals(List.of("moby-dick", "austen"), r.getCorporaList());
        assertEquals(4, r.getSamples());
        assertEquals(64, r.getSeqLen());
        assertEquals(3, r.getSeed());
        assertEquals(20, r.getSitesCount());
        assertEquals("model.layers.0.self_attn.q_proj|k_proj|v_proj", r.getSites(0).getKey());
        assertEquals(List.of("model.layers.0.self_attn.q_proj.weight", "model.layers.0.self_attn.k_proj.weight",
                "model.layers.0.self_attn.v_proj.weight"), r.getSites(0).getLinearsList());
        assertEquals(172, r.getSites(3).getDim());
        assertTrue(r.getSitesList().stream().allMatch(s -> s.getTokens() == 4 * 64));
        try (SafetensorsFile f = SafetensorsFile.open(file)) {
            assertEquals("artifact:models/stories260K", f.metadata().get("model"));
            assertEquals("moby-dick,austen", f.metadata().get("corpus"));
            assertEquals(r.getCalibrationSha256(), f.metadata().get("calibration_sha256"));
        }
        // the same request again rewrites the same bytes
        HessiansCollected again = collect(request().addCorpora("moby-dick").addCorpora("austen").build()).getLast()
                .getResult();
        assertEquals(r.getArtifact().getSha256(), again.getArtifact().getSha256());
    }

    @Test
    void defaultsAreTheContextsHalfAndTheProseCorpora() {
        CollectHessiansRequest req = request().clearSeqLen().setSamples(1).setOutput("jobs/defaults.safetensors")
                .build();
        HessiansCollected r = collect(req).getLast().getResult();
        assertEquals(256, r.getSeqLen());
        assertEquals(List.of("austen", "moby-dick", "sotu"), r.getCorporaList());
        assertEquals("artifact:jobs/defaults.safetensors", r.getArtifact().getUri());
    }

    static Status fails(CollectHessiansRequest req) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> collect(req));
        return e.getStatus();
    }

    static void invalid(CollectHessiansRequest req, String messagePart) {
        Status s = fails(req);
        assertEquals(Status.Code.INVALID_ARGUMENT, s.getCode(), s.toString());
        assertTrue(s.getDescription() != null && s.getDescription().contains(messagePart),
                "'" + s.getDescription() + "' should mention '" + messagePart + "'");
    }

    @Test
    void badInputIsInvalidArgumentWithAMessage() throws IOException {
        Files.createDirectories(store.resolve("jobs"));
        invalid(request().setSamples(0).build(), "samples must be >= 1, got 0");
        invalid(request().setSamples(-5).build(), "samples must be >= 1");
        invalid(request().setSeqLen(513).build(), "seq_len 513 exceeds the model's context of 512");
        invalid(request().setSeqLen(1).build(), "seq_len must be >= 2");
        invalid(request().setSamples(Integer.MAX_VALUE).setSeqLen(512).build(), "tokens, more than 16777216");
        invalid(request().addCorpora("wikitext2-test").build(), "unknown corpus 'wikitext2-test'");
        invalid(request().addCorpora("../eval/wikitext2-test").build(), "invalid corpus name");
        invalid(request().setOutput("../outside.safetensors").build(), "outside the artifact root");
        invalid(request().setOutput("/tmp/outside.safetensors").build(), "outside the artifact root");
        invalid(request().setOutput("artifact:").build(), "output is required");
        invalid(request().setOutput("").build(), "output is required");
        invalid(request().setOutput("models").build(), "is a directory");
        invalid(request().setModel("").build(), "model is required");
        invalid(request().setModel("artifact:../../etc").build(), "outside the artifact root");
        invalid(request().setModel("jobs").build(), "cannot open model jobs");
        invalid(request().setModel("models/stories260K/config.json").build(), "not a Hugging Face model directory");
        assertFalse(Files.exists(store.resolve("outside.safetensors")));
    }

    @Test
    void aMissingModelDirectoryIsNotFound() {
        Status s = fails(request().setModel("artifact:models/llama-70b").build());
        assertEquals(Status.Code.NOT_FOUND, s.getCode());
        assertTrue(s.getDescription().contains("models/llama-70b") && s.getDescription().contains("does not exist"),
                s.getDescription());
    }

    @Test
    void aClientCancelStopsTheCollectionFreesTheSlotAndLeavesNoArtifact() throws Exception {
        String name = InProcessServerBuilder.generateName();
        CalibrationGrpcService service = new CalibrationGrpcService(new ArtifactStore(store),
                new HessianJob(Corpora.shared(), HessianCollector.withDefaultBudget()), 1, 0);
        // the service runs on the server's own executor here, so the client can act mid-stream
        Server own = InProcessServerBuilder.forName(name).addService(service).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        try {
            var client = CalibrationServiceGrpc.newBlockingStub(ch);
            Context.CancellableContext cc = Context.current().withCancellation();
            Path file = store.resolve("jobs/cancelled.safetensors");
            cc.run(() -> {
                var it = client.collectHessians(request().setSamples(5_000)
                        .setOutput("artifact:jobs/cancelled.safetensors").build());
                assertEquals(1, it.next().getSequencesDone());
                cc.cancel(null);
                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> it.forEachRemaining(p -> {}));
                assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            });
            // the server noticed: the slot is free again (one collection at a time) and nothing was written
            long t0 = System.nanoTime();
            List<CollectHessiansProgress> after = null;
            while (after == null) {
                try {
                    after = new ArrayList<>();
                    client.collectHessians(request().setSamples(1).setOutput("jobs/after.safetensors").build())
                            .forEachRemaining(after::add);
                } catch (StatusRuntimeException busy) {
                    assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode());
                    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "cancelled job kept running");
                    after = null;
                    Thread.sleep(20);
                }
            }
            assertTrue(after.getLast().hasResult());
            assertFalse(Files.exists(file));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void aDeadlineStopsTheCollectionAndLeavesNoArtifact() {
        CollectHessiansRequest big = request().setSamples(60_000).setSeqLen(256)
                .setOutput("artifact:jobs/deadline.safetensors").build();
        long t0 = System.nanoTime();
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class,
                () -> stub.withDeadlineAfter(1500, TimeUnit.MILLISECONDS).collectHessians(big).forEachRemaining(p -> {}));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, e.getStatus().getCode());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(5), "did not stop promptly");
        assertFalse(Files.exists(store.resolve("jobs/deadline.safetensors")));
    }
}
