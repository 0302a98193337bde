package io.quantmesh.calibration.grpc;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;
import io.quantmesh.proto.v1.CollectHessiansProgress;
import io.quantmesh.proto.v1.CollectHessiansRequest;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The real server on a loopback port: health, reflection, a collection and an error over the wire. */
class CalibrationServerLoopbackTest {

    @Test
    void servesHealthReflectionAndCollectHessiansOverTcp(@TempDir Path store) throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Llama2cImporter.importTo(Shared.resolve("models/stories260K/stories260K.bin"),
                Shared.resolve("models/stories260K/tok512.bin"), store.resolve("models/s"));
        try (CalibrationServer server = CalibrationServer.start(0, new ArtifactStore(store), Corpora.shared())) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                HealthCheckResponse health = HealthGrpc.newBlockingStub(ch)
                        .check(HealthCheckRequest.newBuilder().setService(CalibrationServiceGrpc.SERVICE_NAME).build());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, health.getStatus());
                assertTrue(listServices(ch).contains("quantmesh.v1.CalibrationService"));

                var stub = CalibrationServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                List<CollectHessiansProgress> msgs = new ArrayList<>();
                stub.collectHessians(CollectHessiansRequest.newBuilder().setModel("models/s").setSamples(3)
                        .setSeqLen(32).setSeed(11).setOutput("artifact:out/h.safetensors").build())
                        .forEachRemaining(msgs::add);
                CollectHessiansProgress last = msgs.getLast();
                assertTrue(last.hasResult());
                assertEquals(3, last.getSequencesDone());
                assertEquals(96, last.getTokensDone());
                assertEquals(Files.size(store.resolve("out/h.safetensors")), last.getResult().getArtifact().getSizeBytes());

                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.collectHessians(
                        CollectHessiansRequest.newBuilder().setModel("models/s").setSamples(0).setOutput("x")
                                .build()).forEachRemaining(p -> {}));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
                assertEquals("samples must be >= 1, got 0", e.getStatus().getDescription());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    private static List<String> listServices(ManagedChannel ch) throws Exception {
        CompletableFuture<List<String>> names = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(
                new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        names.complete(r.getListServicesResponse().getServiceList().stream()
                                .map(s -> s.getName()).toList());
                    }

                    @Override
                    public void onError(Throwable t) {
                        names.completeExceptionally(t);
                    }

                    @Override
                    public void onCompleted() {}
                });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        List<String> out = names.get(10, TimeUnit.SECONDS);
        req.onCompleted();
        return out;
    }
}
