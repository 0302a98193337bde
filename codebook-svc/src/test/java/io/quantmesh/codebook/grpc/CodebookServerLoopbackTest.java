package io.quantmesh.codebook.grpc;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.reflection.v1.ServerReflectionGrpc;
import io.grpc.reflection.v1.ServerReflectionRequest;
import io.grpc.reflection.v1.ServerReflectionResponse;
import io.grpc.stub.StreamObserver;
import io.quantmesh.codebook.SeededGaussian;
import io.quantmesh.proto.v1.BuildPolarCodebookRequest;
import io.quantmesh.proto.v1.CodebookServiceGrpc;
import io.quantmesh.proto.v1.EncodeVectorsRequest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Starts the real server on a loopback port and calls it over the network stack. */
class CodebookServerLoopbackTest {
    @Test
    void servesHealthReflectionAndTheCodebookService(@TempDir Path store) throws Exception {
        try (CodebookServer server = CodebookServer.start(0, store, CodebookGrpcService.Limits.DEFAULT)) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                HealthCheckResponse h = HealthGrpc.newBlockingStub(ch).check(HealthCheckRequest.newBuilder()
                        .setService(CodebookServiceGrpc.SERVICE_NAME).build());
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, h.getStatus());

                List<String> services = new ArrayList<>();
                CountDownLatch done = new CountDownLatch(1);
                StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(new StreamObserver<>() {
                    @Override
                    public void onNext(ServerReflectionResponse r) {
                        r.getListServicesResponse().getServiceList().forEach(s -> services.add(s.getName()));
                    }

                    @Override
                    public void onError(Throwable t) {
                        done.countDown();
                    }

                    @Override
                    public void onCompleted() {
                        done.countDown();
                    }
                });
                req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
                req.onCompleted();
                assertTrue(done.await(10, TimeUnit.SECONDS));
                assertTrue(services.contains("quantmesh.v1.CodebookService"), services.toString());
                assertTrue(services.contains("grpc.health.v1.Health"), services.toString());

                var stub = CodebookServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);
                var info = stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder()
                        .setKey(CodebookGrpcServiceTest.key(8, 10, 2)).build());
                assertEquals("polar-k8-a10-b2-s0-v1", info.getId());
                float[] x = new SeededGaussian(1).gaussians(1000 * 8);
                var enc = stub.encodeVectors(EncodeVectorsRequest.newBuilder().setCodebookId(info.getId())
                        .setVectors(CodebookGrpcServiceTest.f32(x, 1000, 8)).build());
                assertEquals(1000, enc.getIndicesCount());
                assertTrue(enc.getMse() < 0.25, "mse " + enc.getMse());
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
