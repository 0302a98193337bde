package io.quantmesh.quant.grpc;

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
import io.grpc.reflection.v1.ServiceResponse;
import io.grpc.stub.StreamObserver;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.proto.v1.HessianRef;
import io.quantmesh.proto.v1.ModelTensor;
import io.quantmesh.proto.v1.QuantServiceGrpc;
import io.quantmesh.proto.v1.QuantizeCheckpointProgress;
import io.quantmesh.proto.v1.QuantizeCheckpointRequest;
import io.quantmesh.proto.v1.QuantizeLayerRequest;
import io.quantmesh.proto.v1.QuantizeLayerResponse;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.LayerQuantizer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/** The real server on a loopback port: health, reflection, a real layer bit-equal to local, a checkpoint, an error. */
class QuantServerLoopbackTest {

    @Test
    void quantizesARealLayerAndCheckpointOverTcpExactlyAsLocally(@TempDir Path root) throws Exception {
        QuantFixture fx = QuantFixture.in(root);
        try (QuantServer server = QuantServer.start(0, root, QuantGrpcService.Limits.defaults())) {
            ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", server.port()).usePlaintext().build();
            try {
                assertEquals(HealthCheckResponse.ServingStatus.SERVING, HealthGrpc.newBlockingStub(ch)
                        .check(HealthCheckRequest.newBuilder().setService(QuantServiceGrpc.SERVICE_NAME).build()).getStatus());
                assertTrue(services(ch).contains(QuantServiceGrpc.SERVICE_NAME));
                var stub = QuantServiceGrpc.newBlockingStub(ch).withDeadlineAfter(60, TimeUnit.SECONDS);

                // one real stories260K layer, its real Hessian site, the pcdvq-2.0 codebook: all by URI
                String tensor = "model.layers.2.mlp.up_proj.weight";
                int index;
                try (HfCheckpoint ck = HfCheckpoint.open(fx.path(fx.model()))) {
                    index = CheckpointQuantizer.plan(ck, null).indexOf(tensor);
                }
                QuantizeLayerResponse r = stub.quantizeLayer(QuantizeLayerRequest.newBuilder()
                        .setWeightsRef(ModelTensor.newBuilder().setModel(fx.model()).setTensor(tensor))
                        .setHessianRef(HessianRef.newBuilder().setArtifact(fx.hessians()))
                        .setRecipe("pcdvq-2.0").addCodebooks(fx.codebook()).setLayerIndex(index).build());
                try (HfCheckpoint ck = HfCheckpoint.open(fx.path(fx.model()));
                     SafetensorsFile hf = SafetensorsFile.open(fx.path(fx.hessians()))) {
                    double[] h = CheckpointQuantizer.hessian(hf, CheckpointQuantizer.siteFor(
                            CheckpointQuantizer.sites(hf), tensor, "h"), 64, tensor);
                    LayerQuantizer.Layer local = QuantGrpcServiceTest.local(fx, "pcdvq-2.0", tensor, ck.tensor(tensor), h, index);
                    // same stored tensors byte for byte, hence the same Q bit for bit
                    QuantGrpcServiceTest.assertSameLayer(local.stored(), QuantGrpcServiceTest.decode(r));
                    assertEquals(local.report().proxyLoss(), r.getProxyLoss());
                }

                List<QuantizeCheckpointProgress> msgs = new ArrayList<>();
                stub.quantizeCheckpoint(QuantizeCheckpointRequest.newBuilder().setModel(fx.model())
                        .setHessians(fx.hessians()).setRecipe("gptq-int2-g128").setOutput("artifact:out/q").build())
                        .forEachRemaining(msgs::add);
                assertEquals(36, msgs.size());
                var m = msgs.getLast().getManifest();
                var local = CheckpointQuantizer.quantize(fx.path(fx.model()), fx.path(fx.hessians()),
                        root.resolve("local"), CheckpointQuantizer.Options.of(Recipe.named("gptq-int2-g128")), null);
                Map<String, String> sha = new LinkedHashMap<>();
                m.getFilesList().forEach(f -> sha.put(f.getUri().substring("artifact:out/q/".length()), f.getSha256()));
                assertEquals(local.sha256(), sha);
                assertEquals(local.proxyLoss(), m.getProxyLoss());

                StatusRuntimeException e = assertThrows(StatusRuntimeException.class, () -> stub.quantizeLayer(
                        QuantizeLayerRequest.newBuilder().setRecipe("int1").build()));
                assertEquals(Status.Code.INVALID_ARGUMENT, e.getStatus().getCode());
                assertTrue(e.getStatus().getDescription().startsWith("unknown recipe 'int1'; known recipes: "));
            } finally {
                ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }

    /** The service names server reflection lists. */
    private static List<String> services(ManagedChannel ch) throws Exception {
        CompletableFuture<ServerReflectionResponse> first = new CompletableFuture<>();
        StreamObserver<ServerReflectionRequest> req = ServerReflectionGrpc.newStub(ch).serverReflectionInfo(
                new StreamObserver<>() {
                    public void onNext(ServerReflectionResponse r) {
                        first.complete(r);
                    }

                    public void onError(Throwable t) {
                        first.completeExceptionally(t);
                    }

                    public void onCompleted() {}
                });
        req.onNext(ServerReflectionRequest.newBuilder().setListServices("").build());
        ServerReflectionResponse r = first.get(10, TimeUnit.SECONDS);
        req.onCompleted();
        return r.getListServicesResponse().getServiceList().stream().map(ServiceResponse::getName).toList();
    }
}
