package io.quantmesh.codebook.grpc;

import io.quantmesh.core.store.Sha256;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.ForwardingServerCall;
import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.codebook.SeededGaussian;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.safetensors.SafetensorsWriter;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.BuildKMeansCodebookRequest;
import io.quantmesh.proto.v1.BuildPolarCodebookRequest;
import io.quantmesh.proto.v1.Codebook;
import io.quantmesh.proto.v1.CodebookInfo;
import io.quantmesh.proto.v1.CodebookServiceGrpc;
import io.quantmesh.proto.v1.DType;
import io.quantmesh.proto.v1.DecodeIndicesRequest;
import io.quantmesh.proto.v1.EncodeVectorsRequest;
import io.quantmesh.proto.v1.EncodeVectorsResponse;
import io.quantmesh.proto.v1.GetCodebookRequest;
import io.quantmesh.proto.v1.InlineVectors;
import io.quantmesh.proto.v1.PolarCodebookKey;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every RPC in process, including the invalid inputs and a deadline. */
class CodebookGrpcServiceTest {
    @TempDir
    Path store;
    private Server server;
    private ManagedChannel channel;
    private CodebookServiceGrpc.CodebookServiceBlockingStub stub;
    private final CopyOnWriteArrayList<Status> serverStatuses = new CopyOnWriteArrayList<>();

    @BeforeEach
    void start() throws Exception {
        String name = InProcessServerBuilder.generateName();
        CodebookGrpcService svc = new CodebookGrpcService(new CodebookCache(store), new CodebookGrpcService.Limits(64 << 10, 1 << 20), Parallel.common());
        ServerInterceptor recordStatus = new ServerInterceptor() {
            @Override
            public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
                return next.startCall(new ForwardingServerCall.SimpleForwardingServerCall<>(call) {
                    @Override
                    public void close(Status status, Metadata trailers) {
                        serverStatuses.add(status);
                        super.close(status, trailers);
                    }
                }, headers);
            }
        };
        server = InProcessServerBuilder.forName(name).directExecutor().addService(ServerInterceptors.intercept(svc, recordStatus)).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = CodebookServiceGrpc.newBlockingStub(channel);
    }

    @AfterEach
    void stop() throws Exception {
        channel.shutdownNow();
        server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    static PolarCodebookKey key(int k, int a, int b) {
        return PolarCodebookKey.newBuilder().setK(k).setDirectionBits(a).setMagnitudeBits(b).setSeed(0).setVersion(1).build();
    }

    static io.quantmesh.proto.v1.Tensor f32(float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        io.quantmesh.proto.v1.Tensor.Builder t = io.quantmesh.proto.v1.Tensor.newBuilder().setDtype(DType.F32)
                .setData(com.google.protobuf.ByteString.copyFrom(b.flip()));
        for (long d : shape) t.addShape(d);
        return t.build();
    }

    static float[] floats(io.quantmesh.proto.v1.Tensor t) {
        ByteBuffer b = t.getData().asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
        float[] out = new float[b.remaining() / 4];
        for (int i = 0; i < out.length; i++) out[i] = b.getFloat();
        return out;
    }

    static void assertStatus(Status.Code code, String fragment, Executable call) {
        StatusRuntimeException e = assertThrows(StatusRuntimeException.class, call::execute);
        assertEquals(code, e.getStatus().getCode(), e.getStatus().toString());
        assertTrue(e.getStatus().getDescription() != null && e.getStatus().getDescription().contains(fragment),
                "message '" + e.getStatus().getDescription() + "' should mention '" + fragment + "'");
    }

    @FunctionalInterface
    interface Executable {
        void execute() throws Throwable;
    }

    @Test
    void polarBuildGetEncodeDecode() {
        CodebookInfo info = stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 8, 2)).build());
        assertEquals("polar-k8-a8-b2-s0-v1", info.getId());
        assertEquals("polar", info.getKind());
        assertEquals(256, info.getSize());
        assertEquals(10, info.getIndexBits());
        assertEquals(1.25, info.getBitsPerWeight());
        assertFalse(info.getCached());
        assertEquals(64, info.getArtifact().getSha256().length());
        assertTrue(stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 8, 2)).build()).getCached());

        Codebook cb = stub.getCodebook(GetCodebookRequest.newBuilder().setPolarKey(key(8, 8, 2)).setIncludeTensors(true).build());
        assertEquals(info.getId(), cb.getInfo().getId());
        assertEquals("directions", cb.getTensors(0).getName());
        float[] dirs = floats(cb.getTensors(0));
        assertEquals(256 * 8, dirs.length);
        assertEquals(0, stub.getCodebook(GetCodebookRequest.newBuilder().setId(info.getId()).build()).getTensorsCount());

        int n = 500;
        float[] x = new SeededGaussian(5).gaussians(n * 8);
        EncodeVectorsResponse enc = stub.encodeVectors(EncodeVectorsRequest.newBuilder().setCodebookId(info.getId())
                .setVectors(f32(x, n, 8)).setPacked(true).build());
        assertEquals(n, enc.getIndicesCount());
        assertEquals(10, enc.getIndexBits());
        assertTrue(enc.getMse() > 0.1 && enc.getMse() < 0.4, "mse " + enc.getMse());
        // decoding the plain and the packed indices gives the same vectors, whose error is the reported mse
        var plain = stub.decodeIndices(DecodeIndicesRequest.newBuilder().setCodebookId(info.getId()).addAllIndices(enc.getIndicesList()).build());
        var packed = stub.decodeIndices(DecodeIndicesRequest.newBuilder().setCodebookId(info.getId())
                .setPackedIndices(enc.getPackedIndices()).setCount(n).build());
        float[] y = floats(plain.getVectors());
        assertArrayEquals(y, floats(packed.getVectors()));
        double e = 0;
        for (int i = 0; i < x.length; i++) e += (double) (x[i] - y[i]) * (x[i] - y[i]);
        assertEquals(enc.getMse(), e / x.length, 1e-12);
        // a vector equal to a direction times a level decodes to itself
        float[] mags = floats(cb.getTensors(1));
        float[] q = new float[8];
        for (int i = 0; i < 8; i++) q[i] = dirs[37 * 8 + i] * mags[2];
        var one = stub.encodeVectors(EncodeVectorsRequest.newBuilder().setCodebookId(info.getId()).setVectors(f32(q, 1, 8)).build());
        assertEquals(37 << 2 | 2, one.getIndices(0));
    }

    @Test
    void polarRefinedOnSourceVectorsIsItsOwnCodebook() {
        float[] x = new SeededGaussian(9).gaussians(2000 * 4);
        CodebookInfo info = stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(4, 6, 1))
                .setRefineVectors(f32(x, 2000, 4)).setRefineIterations(3).build());
        assertTrue(info.getId().startsWith("polar-k4-a6-b1-s0-v1-r"), info.getId());
        assertTrue(info.getMetadataMap().get("refined_on").startsWith("sha256:"));
        assertEquals(info.getId(), stub.getCodebook(GetCodebookRequest.newBuilder().setId(info.getId()).build()).getInfo().getId());
        assertStatus(Status.Code.INVALID_ARGUMENT, "refine_iterations", () -> stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder()
                .setKey(key(4, 6, 1)).setRefineVectors(f32(x, 2000, 4)).build()));
    }

    @Test
    void invalidPolarRequests() {
        assertStatus(Status.Code.INVALID_ARGUMENT, "direction bits a must be 4..16", () ->
                stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 30, 2)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "vector size k", () ->
                stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(0, 14, 2)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "magnitude bits", () ->
                stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 14, 0)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "unknown polar codebook version", () ->
                stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 14, 2).toBuilder().setVersion(7)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "key is required", () ->
                stub.buildPolarCodebook(BuildPolarCodebookRequest.getDefaultInstance()));
    }

    @Test
    void kmeansInlineAndArtifactSources() throws Exception {
        int n = 1000, k = 4;
        float[] x = new SeededGaussian(2).gaussians(n * k);
        BuildKMeansCodebookRequest req = BuildKMeansCodebookRequest.newBuilder().setK(k).setClusters(32).setSeed(1)
                .setInline(InlineVectors.newBuilder().setVectors(f32(x, n, k))).build();
        CodebookInfo info = stub.buildKMeansCodebook(req);
        assertEquals("kmeans", info.getKind());
        assertEquals(32, info.getSize());
        assertEquals(5, info.getIndexBits());
        assertTrue(stub.buildKMeansCodebook(req).getCached());
        var enc = stub.encodeVectors(EncodeVectorsRequest.newBuilder().setCodebookId(info.getId()).setVectors(f32(x, n, k)).build());
        assertEquals(Double.parseDouble(info.getMetadataMap().get("objective")) / k, enc.getMse(), 1e-6, "training error of the final assignment");

        // the same vectors as an artifact, with weights
        Map<String, Tensor> t = new LinkedHashMap<>();
        t.put("vectors", Tensor.ofFloats(x, n, k));
        float[] w = new float[n];
        java.util.Arrays.fill(w, 1f);
        w[0] = 100f;
        t.put("weights", Tensor.ofFloats(w, n));
        java.nio.file.Files.createDirectories(store.resolve("jobs/1"));
        SafetensorsWriter.write(store.resolve("jobs/1/vectors.safetensors"), t, Map.of());
        String sha = Sha256.of(store.resolve("jobs/1/vectors.safetensors"));
        CodebookInfo fromArtifact = stub.buildKMeansCodebook(req.toBuilder().clearInline()
                .setArtifact(ArtifactRef.newBuilder().setUri("artifact:jobs/1/vectors.safetensors").setSha256(sha)).build());
        assertEquals("true", fromArtifact.getMetadataMap().get("weighted"));
        assertTrue(!fromArtifact.getId().equals(info.getId()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "sha256", () -> stub.buildKMeansCodebook(req.toBuilder().clearInline()
                .setArtifact(ArtifactRef.newBuilder().setUri("artifact:jobs/1/vectors.safetensors").setSha256("00")).build()));
        assertStatus(Status.Code.NOT_FOUND, "no artifact", () -> stub.buildKMeansCodebook(req.toBuilder().clearInline()
                .setArtifact(ArtifactRef.newBuilder().setUri("artifact:jobs/2/none.safetensors")).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "escapes", () -> stub.buildKMeansCodebook(req.toBuilder().clearInline()
                .setArtifact(ArtifactRef.newBuilder().setUri("artifact:../../etc/passwd")).build()));
    }

    @Test
    void invalidKMeansRequests() {
        int n = 100, k = 8;
        float[] x = new SeededGaussian(3).gaussians(n * k);
        BuildKMeansCodebookRequest ok = BuildKMeansCodebookRequest.newBuilder().setK(k).setClusters(4)
                .setInline(InlineVectors.newBuilder().setVectors(f32(x, n, k))).build();
        float[] nan = x.clone();
        nan[13] = Float.NaN;
        assertStatus(Status.Code.INVALID_ARGUMENT, "not finite", () -> stub.buildKMeansCodebook(ok.toBuilder()
                .setInline(InlineVectors.newBuilder().setVectors(f32(nan, n, k))).build()));
        float[] inf = x.clone();
        inf[70] = Float.NEGATIVE_INFINITY;
        assertStatus(Status.Code.INVALID_ARGUMENT, "not finite", () -> stub.buildKMeansCodebook(ok.toBuilder()
                .setInline(InlineVectors.newBuilder().setVectors(f32(inf, n, k))).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "3 weights for 100 vectors", () -> stub.buildKMeansCodebook(ok.toBuilder()
                .setInline(ok.getInline().toBuilder().addWeights(1).addWeights(1).addWeights(1)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "vector size k", () -> stub.buildKMeansCodebook(ok.toBuilder().setK(0).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "must have 4 columns, got 8", () -> stub.buildKMeansCodebook(ok.toBuilder().setK(4).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "clusters", () -> stub.buildKMeansCodebook(ok.toBuilder().setClusters(0).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "at least as many vectors", () -> stub.buildKMeansCodebook(ok.toBuilder().setClusters(500).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "source", () -> stub.buildKMeansCodebook(ok.toBuilder().clearInline().build()));
        float[] big = new SeededGaussian(4).gaussians(3000 * 8); // 96 KB > the 64 KB inline limit
        assertStatus(Status.Code.INVALID_ARGUMENT, "exceeds the limit", () -> stub.buildKMeansCodebook(ok.toBuilder()
                .setInline(InlineVectors.newBuilder().setVectors(f32(big, 3000, 8))).build()));
        var bytesOff = f32(x, n, k).toBuilder().setShape(0, n + 1).build();
        assertStatus(Status.Code.INVALID_ARGUMENT, "bytes of data", () -> stub.buildKMeansCodebook(ok.toBuilder()
                .setInline(InlineVectors.newBuilder().setVectors(bytesOff)).build()));
    }

    @Test
    void invalidLookupsAndCodes() {
        assertStatus(Status.Code.NOT_FOUND, "no codebook", () -> stub.getCodebook(GetCodebookRequest.newBuilder().setId("polar-k8-a9-b2-s0-v1").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "malformed codebook id", () -> stub.getCodebook(GetCodebookRequest.newBuilder().setId("../x").build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "id or a polar_key", () -> stub.getCodebook(GetCodebookRequest.getDefaultInstance()));
        String id = stub.buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 6, 2)).build()).getId();
        assertStatus(Status.Code.INVALID_ARGUMENT, "8 columns", () -> stub.encodeVectors(EncodeVectorsRequest.newBuilder()
                .setCodebookId(id).setVectors(f32(new float[4], 1, 4)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "not finite", () -> stub.encodeVectors(EncodeVectorsRequest.newBuilder()
                .setCodebookId(id).setVectors(f32(new float[] {0, 0, Float.POSITIVE_INFINITY, 0, 0, 0, 0, 0}, 1, 8)).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "exceeds 8 bits", () -> stub.decodeIndices(DecodeIndicesRequest.newBuilder()
                .setCodebookId(id).addIndices(256).build()));
        assertStatus(Status.Code.INVALID_ARGUMENT, "count", () -> stub.decodeIndices(DecodeIndicesRequest.newBuilder()
                .setCodebookId(id).setPackedIndices(com.google.protobuf.ByteString.copyFrom(new byte[4])).build()));
        assertStatus(Status.Code.NOT_FOUND, "no codebook", () -> stub.encodeVectors(EncodeVectorsRequest.newBuilder()
                .setCodebookId("kmeans-k8-c4-0000000000000000").setVectors(f32(new float[8], 1, 8)).build()));
    }

    @Test
    void deadlineStopsALongBuildOnTheServer() {
        // a 2^14-direction codebook takes seconds to select; a 300 ms deadline must end it on the server too
        long t0 = System.nanoTime();
        assertStatus(Status.Code.DEADLINE_EXCEEDED, "", () -> stub.withDeadlineAfter(300, TimeUnit.MILLISECONDS)
                .buildPolarCodebook(BuildPolarCodebookRequest.newBuilder().setKey(key(8, 14, 2)).build()));
        double seconds = (System.nanoTime() - t0) / 1e9;
        // direct executor: the blocking call returns only when the server handler does
        assertTrue(seconds < 3, "the server gave up after " + seconds + " s");
        Status last = serverStatuses.get(serverStatuses.size() - 1);
        assertTrue(last.getCode() == Status.Code.DEADLINE_EXCEEDED || last.getCode() == Status.Code.CANCELLED, last.toString());
        assertFalse(java.nio.file.Files.exists(store.resolve("codebooks/polar-k8-a14-b2-s0-v1.safetensors")), "nothing half-built is stored");
    }
}
