package io.quantmesh.quant.grpc;

import io.quantmesh.core.store.Sha256;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.google.protobuf.ByteString;
import io.grpc.Context;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.quantmesh.core.Json;
import io.quantmesh.core.checkpoint.HfCheckpoint;
import io.quantmesh.core.quantized.LayerArtifact;
import io.quantmesh.core.quantized.LayerConfig;
import io.quantmesh.core.quantized.QuantizedTensor;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.safetensors.SafetensorsFile;
import io.quantmesh.core.tensor.Tensor;
import io.quantmesh.proto.v1.DType;
import io.quantmesh.proto.v1.HessianRef;
import io.quantmesh.proto.v1.ModelTensor;
import io.quantmesh.proto.v1.QuantServiceGrpc;
import io.quantmesh.proto.v1.QuantizeCheckpointProgress;
import io.quantmesh.proto.v1.QuantizeCheckpointRequest;
import io.quantmesh.proto.v1.QuantizeLayerRequest;
import io.quantmesh.proto.v1.QuantizeLayerResponse;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.LayerQuantizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.*;

/** QuantService in process over the real stories260K, a real Hessian artifact and codebook: results and statuses. */
class QuantGrpcServiceTest {
    static final int ROWS = 48, COLS = 64;

    @TempDir
    static Path root;
    static QuantFixture fx;
    static Server server;
    static ManagedChannel channel;
    static QuantServiceGrpc.QuantServiceBlockingStub stub;

    @BeforeAll
    static void start() throws IOException {
        fx = QuantFixture.in(root);
        String name = InProcessServerBuilder.generateName();
        server = InProcessServerBuilder.forName(name).directExecutor()
                .addService(new QuantGrpcService(root, QuantGrpcService.Limits.defaults())).build().start();
        channel = InProcessChannelBuilder.forName(name).directExecutor().build();
        stub = QuantServiceGrpc.newBlockingStub(channel);
    }

    @AfterAll
    static void stop() throws InterruptedException {
        if (channel != null) channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (server != null) server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    // ---- inputs ----

    static float[] weights(long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        float[] w = new float[ROWS * COLS];
        for (int i = 0; i < w.length; i++) w[i] = (float) (0.05 * r.nextGaussian());
        return w;
    }

    /** H = (2/n) XᵀX of seeded activations with a per-channel scale; {@code dead} inputs never fire. */
    static double[] hessian(int n, long seed, int... dead) {
        SplittableRandom r = new SplittableRandom(seed);
        int tokens = 4 * n;
        double[] x = new double[tokens * n];
        for (int t = 0; t < tokens; t++) {
            for (int j = 0; j < n; j++) x[t * n + j] = r.nextGaussian() * (1 + j % 5);
        }
        for (int j : dead) for (int t = 0; t < tokens; t++) x[t * n + j] = 0;
        double[] h = new double[n * n];
        for (int t = 0; t < tokens; t++) {
            for (int a = 0; a < n; a++) for (int b = 0; b < n; b++) h[a * n + b] += 2.0 / tokens * x[t * n + a] * x[t * n + b];
        }
        return h;
    }

    static io.quantmesh.proto.v1.Tensor f32(String name, float[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (float x : v) b.putFloat(x);
        return tensor(name, DType.F32, b.flip(), shape);
    }

    static io.quantmesh.proto.v1.Tensor f64(double[] v, long... shape) {
        ByteBuffer b = ByteBuffer.allocate(v.length * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (double x : v) b.putDouble(x);
        return tensor("", DType.F64, b.flip(), shape);
    }

    static io.quantmesh.proto.v1.Tensor tensor(String name, DType d, ByteBuffer data, long... shape) {
        var t = io.quantmesh.proto.v1.Tensor.newBuilder().setName(name).setDtype(d).setData(ByteString.copyFrom(data));
        for (long s : shape) t.addShape(s);
        return t.build();
    }

    static QuantizeLayerRequest.Builder inline(float[] w, double[] h, String recipe) {
        return QuantizeLayerRequest.newBuilder().setWeightsInline(f32("blk.0.proj.weight", w, ROWS, COLS))
                .setHessianInline(f64(h, COLS, COLS)).setRecipe(recipe).setLayerIndex(3);
    }

    /** The layer the response carries, read back with core's reader. */
    static QuantizedTensor decode(QuantizeLayerResponse r) throws IOException {
        Map<String, Tensor> byName = new LinkedHashMap<>();
        for (var t : r.getTensorsList()) {
            byte[] data = t.getData().toByteArray();
            byName.put(t.getName(), new Tensor(io.quantmesh.core.tensor.DType.valueOf(t.getDtype().name()),
                    t.getShapeList().stream().mapToLong(Long::longValue).toArray(),
                    java.lang.foreign.MemorySegment.ofArray(data)));
        }
        ObjectNode json = (ObjectNode) Json.mapper().readTree(r.getLayerConfigJson());
        return QuantizedTensor.fromTensors(r.getModule(), byName::get, LayerConfig.of(r.getModule(), json));
    }

    static void assertSameLayer(QuantizedTensor expected, QuantizedTensor actual) {
        assertEquals(expected.layerConfig(), actual.layerConfig());
        var a = expected.toTensors("x");
        var b = actual.toTensors("x");
        assertEquals(a.keySet(), b.keySet());
        for (String k : a.keySet()) {
            assertEquals(-1, a.get(k).segment().mismatch(b.get(k).segment()), k);
        }
        assertArrayEquals(expected.dequantize(), actual.dequantize());
    }

    static LayerQuantizer.Layer local(String recipe, String name, Tensor w, double[] h, long index) {
        return local(fx, recipe, name, w, h, index);
    }

    static LayerQuantizer.Layer local(QuantFixture fx, String recipe, String name, Tensor w, double[] h, long index) {
        try (LayerQuantizer q = new LayerQuantizer(Recipe.named(recipe), fx.codecs()::get, 0)) {
            return q.quantize(name, w, h, index);
        }
    }

    // ---- QuantizeLayer ----

    @Test
    void inlineLayerIsTheLocalLayerQuantizersResult() throws IOException {
        float[] w = weights(1);
        double[] h = hessian(COLS, 2);
        for (String recipe : List.of("gptq-int2-g128", "rtn-int4-g128", "afpq-fp4-g128")) {
            QuantizeLayerResponse r = stub.quantizeLayer(inline(w, h, recipe).build());
            LayerQuantizer.Layer want = local(recipe, "blk.0.proj.weight", Tensor.ofFloats(w, ROWS, COLS), h, 3);
            assertEquals("blk.0.proj", r.getModule());
            assertEquals(ROWS, r.getRows());
            assertEquals(COLS, r.getCols());
            assertEquals(want.stored().representation(), r.getRepresentation());
            assertEquals(want.report().proxyLoss(), r.getProxyLoss(), recipe);
            assertEquals(want.stored().indexBitsPerWeight(), r.getIndexBitsPerWeight());
            assertEquals(want.stored().storedBitsPerWeight(), r.getStoredBitsPerWeight());
            assertTrue(r.getTensorsList().stream().allMatch(t -> t.getName().startsWith("blk.0.proj.")));
            assertFalse(r.hasArtifact());
            assertSameLayer(want.stored(), decode(r));
        }
    }

    @Test
    void pcdvqUsesTheCodebookArtifact() throws IOException {
        float[] w = weights(4);
        double[] h = hessian(COLS, 5);
        QuantizeLayerResponse r = stub.quantizeLayer(inline(w, h, "pcdvq-2.0").addCodebooks(fx.codebook()).build());
        assertEquals("polar", r.getRepresentation());
        assertEquals(2.0, r.getIndexBitsPerWeight());
        assertSameLayer(local("pcdvq-2.0", "blk.0.proj.weight", Tensor.ofFloats(w, ROWS, COLS), h, 3).stored(), decode(r));
    }

    @Test
    void aModelTensorAndItsHessianSiteByUriWrittenAsALayerArtifact() throws IOException {
        String tensor = "model.layers.1.mlp.down_proj.weight";
        QuantizeLayerResponse r = stub.quantizeLayer(QuantizeLayerRequest.newBuilder()
                .setWeightsRef(ModelTensor.newBuilder().setModel(fx.model()).setTensor(tensor))
                .setHessianRef(HessianRef.newBuilder().setArtifact(fx.hessians()))
                .setRecipe("gptq-int3-g128").setLayerIndex(13).setOutput("artifact:jobs/1/layers/00013.safetensors").build());
        assertEquals(0, r.getTensorsCount());
        assertEquals("artifact:jobs/1/layers/00013.safetensors", r.getArtifact().getUri());
        Path file = fx.path(r.getArtifact().getUri());
        assertEquals(Sha256.of(file), r.getArtifact().getSha256());
        assertEquals(Files.size(file), r.getArtifact().getSizeBytes());
        LayerArtifact.Read read = LayerArtifact.read(file, "model.layers.1.mlp.down_proj");
        assertEquals("13", read.metadata().get("layer_index"));
        try (HfCheckpoint ck = HfCheckpoint.open(fx.path(fx.model()));
             SafetensorsFile hf = SafetensorsFile.open(fx.path(fx.hessians()))) {
            Tensor w = ck.tensor(tensor);
            double[] h = CheckpointQuantizer.hessian(hf, CheckpointQuantizer.siteFor(CheckpointQuantizer.sites(hf),
                    tensor, "h"), 172, tensor);
            LayerQuantizer.Layer want = local("gptq-int3-g128", tensor, w, h, 13);
            assertSameLayer(want.stored(), read.layer());
            assertEquals(want.report().proxyLoss(), r.getProxyLoss());
        }
        // an explicit key names the same Hessian
        QuantizeLayerResponse keyed = stub.quantizeLayer(QuantizeLayerRequest.newBuilder()
                .setWeightsRef(ModelTensor.newBuilder().setModel(fx.model()).setTensor(tensor))
                .setHessianRef(HessianRef.newBuilder().setArtifact(fx.hessians()).setKey("model.layers.1.mlp.down_proj.hessian"))
                .setRecipe("gptq-int3-g128").setLayerIndex(13).build());
        assertEquals(r.getProxyLoss(), keyed.getProxyLoss());
    }

    @Test
    void deadColumnsAreHandledNotRejected() throws IOException {
        float[] w = weights(6);
        double[] h = hessian(COLS, 7, 0, 5, 63);
        for (String recipe : List.of("gptq-int2-g128", "rtn-int4-g128")) {
            QuantizeLayerResponse r = stub.quantizeLayer(inline(w, h, recipe).build());
            assertTrue(Double.isFinite(r.getProxyLoss()) && r.getProxyLoss() >= 0, recipe + " " + r.getProxyLoss());
            assertSameLayer(local(recipe, "blk.0.proj.weight", Tensor.ofFloats(w, ROWS, COLS), h, 3).stored(), decode(r));
        }
        QuantizeLayerResponse p = stub.quantizeLayer(inline(w, h, "pcdvq-2.0").addCodebooks(fx.codebook()).build());
        assertTrue(Double.isFinite(p.getProxyLoss()) && p.getProxyLoss() >= 0);
    }

    // ---- bad input ----

    static Status fails(Runnable call) {
        return assertThrows(StatusRuntimeException.class, call::run).getStatus();
    }

    static void is(Status.Code code, String part, Status s) {
        assertEquals(code, s.getCode(), s.toString());
        assertTrue(s.getDescription() != null && s.getDescription().contains(part),
                "'" + s.getDescription() + "' should mention '" + part + "'");
    }

    static void invalid(QuantizeLayerRequest req, String part) {
        is(Status.Code.INVALID_ARGUMENT, part, fails(() -> stub.quantizeLayer(req)));
    }

    @Test
    void badHessiansAreInvalidArgument() {
        float[] w = weights(8);
        double[] h = hessian(COLS, 9);
        double[] negative = h.clone();
        negative[4 * COLS + 4] = -1;
        double[] nan = h.clone();
        nan[2 * COLS + 9] = nan[9 * COLS + 2] = Double.NaN;
        double[] inf = h.clone();
        inf[7] = Double.POSITIVE_INFINITY;
        // positive diagonal, symmetric, but indefinite far beyond the 1 % damping: H = I − 2·uuᵀ-like
        double[] indefinite = new double[COLS * COLS];
        for (int i = 0; i < COLS; i++) {
            for (int j = 0; j < COLS; j++) indefinite[i * COLS + j] = i == j ? 1 : 0.9;
        }
        indefinite[1] = indefinite[COLS] = -0.9;
        double[] asymmetric = h.clone();
        asymmetric[1] += 10 * Math.abs(asymmetric[1]) + 1;
        for (String recipe : List.of("gptq-int2-g128", "rtn-int4-g128")) {
            invalid(inline(w, negative, recipe).build(), "< 0: not positive semidefinite");
            invalid(inline(w, nan, recipe).build(), "hessian[2][9] is not finite: NaN");
            invalid(inline(w, inf, recipe).build(), "hessian[0][7] is not finite: Infinity");
            invalid(inline(w, indefinite, recipe).build(), "not positive definite");
            invalid(inline(w, asymmetric, recipe).build(), "not symmetric");
        }
        invalid(inline(w, indefinite, "pcdvq-2.0").addCodebooks(fx.codebook()).build(), "not positive definite");
        invalid(inline(w, nan, "pcdvq-2.0").addCodebooks(fx.codebook()).build(), "not finite");
    }

    @Test
    void badWeightsAndShapesAreInvalidArgument() {
        float[] w = weights(10);
        double[] h = hessian(COLS, 11);
        float[] nan = w.clone();
        nan[3 * COLS + 1] = Float.NaN;
        invalid(inline(nan, h, "gptq-int2-g128").build(), "weights[3][1] is not finite: NaN");
        float[] inf = w.clone();
        inf[5] = Float.NEGATIVE_INFINITY;
        invalid(inline(inf, h, "pcdvq-2.0").addCodebooks(fx.codebook()).build(), "weights[0][5] is not finite");
        // Hessian dimension ≠ weight columns
        invalid(inline(w, hessian(32, 1), "gptq-int2-g128").setHessianInline(f64(hessian(32, 1), 32, 32)).build(),
                "it must be [64, 64]");
        // data length ≠ shape
        invalid(inline(w, h, "gptq-int2-g128").setWeightsInline(f32("w", Arrays.copyOf(w, w.length - 1), ROWS, COLS))
                .build(), "needs 12288 bytes of data, got 12284");
        invalid(inline(w, h, "gptq-int2-g128").setHessianInline(f64(Arrays.copyOf(h, 10), COLS, COLS)).build(),
                "needs 32768 bytes of data, got 80");
        // rank ≠ 2
        invalid(inline(w, h, "gptq-int2-g128").setWeightsInline(f32("w", w, (long) ROWS * COLS)).build(),
                "weights must be a matrix (rank 2), got rank 1");
        invalid(inline(w, h, "gptq-int2-g128").setHessianInline(f64(h, 1, COLS, COLS)).build(),
                "hessian must be a matrix (rank 2), got rank 3");
        // wrong dtypes
        invalid(inline(w, h, "gptq-int2-g128").setHessianInline(f32("h", new float[COLS * COLS], COLS, COLS)).build(),
                "hessian must be [F64], got F32");
        invalid(inline(w, h, "gptq-int2-g128").setWeightsInline(tensor("w", DType.I32,
                ByteBuffer.allocate(ROWS * COLS * 4), ROWS, COLS)).build(), "weights must be");
        invalid(inline(w, h, "gptq-int2-g128").clearWeights().build(), "weights are required");
        invalid(inline(w, h, "gptq-int2-g128").clearHessian().build(), "a Hessian is required");
        // a model tensor that is not a matrix, and a model/Hessian mismatch
        invalid(QuantizeLayerRequest.newBuilder().setWeightsRef(ModelTensor.newBuilder().setModel(fx.model())
                .setTensor("model.norm.weight")).setHessianInline(f64(h, COLS, COLS)).setRecipe("gptq-int2-g128")
                .build(), "not a floating matrix");
        invalid(QuantizeLayerRequest.newBuilder().setWeightsRef(ModelTensor.newBuilder().setModel(fx.model())
                .setTensor("model.layers.0.mlp.down_proj.weight")).setHessianRef(HessianRef.newBuilder()
                .setArtifact(fx.hessians()).setKey("model.layers.0.self_attn.q_proj|k_proj|v_proj.hessian"))
                .setRecipe("gptq-int2-g128").build(), "needs F64 [172, 172]");
        invalid(inline(w, h, "gptq-int2-g128").setHessianRef(HessianRef.newBuilder().setArtifact(fx.hessians())).build(),
                "hessian_ref.key is required with inline weights");
    }

    @Test
    void recipesCodebooksAndUrisAreChecked() {
        float[] w = weights(12);
        double[] h = hessian(COLS, 13);
        invalid(inline(w, h, "gptq-int5").build(), "unknown recipe 'gptq-int5'; known recipes: rtn-int4-g128, gptq-int4-g128");
        invalid(inline(w, h, "").build(), "recipe is required; known recipes: rtn-int4-g128");
        invalid(inline(w, h, "pcdvq-2.0").build(), "recipe pcdvq-2.0 needs the polar codebook polar-k8-a14-b2-s0-v1");
        invalid(inline(w, h, "pcdvq-2.25").addCodebooks(fx.codebook()).build(),
                "needs the polar codebook polar-k8-a16-b2-s0-v1: pass its codebook-svc artifact in codebooks (given: [polar-k8-a14-b2-s0-v1])");
        invalid(inline(w, h, "pcdvq-2.0").addCodebooks(fx.hessians()).build(), "cannot be read");
        invalid(inline(w, h, "gptq-int2-g128").setOutput("../escape.safetensors").build(), "outside the artifact root");
        invalid(inline(w, h, "gptq-int2-g128").setOutput("artifact:/tmp/escape.safetensors").build(), "outside the artifact root");
        invalid(inline(w, h, "gptq-int2-g128").setOutput("jobs").build(), "is a directory");
        invalid(inline(w, h, "gptq-int2-g128").setOutput("jobs\\x").build(), "backslash");
        invalid(inline(w, h, "gptq-int2-g128").setOutput("artifact:.").build(), "the artifact root itself");
        invalid(QuantizeLayerRequest.newBuilder().setWeightsRef(ModelTensor.newBuilder().setModel("models/../../x")
                .setTensor("a.weight")).setHessianInline(f64(h, COLS, COLS)).setRecipe("gptq-int2-g128").build(),
                "outside the artifact root");
        invalid(inline(w, h, "gptq-int2-g128").setHessianRef(HessianRef.newBuilder().setArtifact("/etc/passwd")
                .setKey("x")).build(), "outside the artifact root");
        assertFalse(Files.exists(root.getParent().resolve("escape.safetensors")));
    }

    @Test
    void aLinkOutOfTheRootIsRefused(@TempDir Path outside) throws IOException {
        Files.writeString(outside.resolve("secret.safetensors"), "x");
        Path link = root.resolve("jobs/link");
        Files.createSymbolicLink(link, outside);
        try {
            invalid(inline(weights(1), hessian(COLS, 1), "gptq-int2-g128").setHessianRef(HessianRef.newBuilder()
                    .setArtifact("jobs/link/secret.safetensors").setKey("k")).build(), "leads outside the artifact root");
        } finally {
            Files.delete(link);
        }
    }

    @Test
    void missingArtifactsAreNotFound() {
        double[] h = hessian(COLS, 14);
        Status s = fails(() -> stub.quantizeLayer(QuantizeLayerRequest.newBuilder().setWeightsRef(ModelTensor.newBuilder()
                .setModel("artifact:models/llama-70b").setTensor("a.weight")).setHessianInline(f64(h, COLS, COLS))
                .setRecipe("gptq-int2-g128").build()));
        is(Status.Code.NOT_FOUND, "model 'artifact:models/llama-70b' does not exist", s);
        s = fails(() -> stub.quantizeLayer(QuantizeLayerRequest.newBuilder().setWeightsRef(ModelTensor.newBuilder()
                .setModel(fx.model()).setTensor("model.layers.9.mlp.up_proj.weight")).setHessianInline(f64(h, COLS, COLS))
                .setRecipe("gptq-int2-g128").build()));
        is(Status.Code.NOT_FOUND, "no tensor named 'model.layers.9.mlp.up_proj.weight'", s);
        s = fails(() -> stub.quantizeLayer(inline(weights(1), h, "gptq-int2-g128").setHessianRef(HessianRef.newBuilder()
                .setArtifact("jobs/2/hessians.safetensors").setKey("k")).build()));
        is(Status.Code.NOT_FOUND, "'jobs/2/hessians.safetensors' does not exist", s);
        s = fails(() -> stub.quantizeLayer(inline(weights(1), h, "gptq-int2-g128").setHessianRef(HessianRef.newBuilder()
                .setArtifact(fx.hessians()).setKey("model.layers.0.nope.hessian")).build()));
        is(Status.Code.NOT_FOUND, "has no tensor 'model.layers.0.nope.hessian'", s);
        s = fails(() -> stub.quantizeLayer(inline(weights(1), h, "pcdvq-2.0").addCodebooks("codebooks/none.safetensors")
                .build()));
        is(Status.Code.NOT_FOUND, "codebook 'codebooks/none.safetensors' does not exist", s);
    }

    @Test
    void resultsOverTheInlineLimitAskForAnArtifactAndHugeLayersAreRefusedUpFront() throws Exception {
        String name = InProcessServerBuilder.generateName();
        Server small = InProcessServerBuilder.forName(name).directExecutor().addService(new QuantGrpcService(root,
                new QuantGrpcService.Limits(1024, 1 << 20, 1))).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).directExecutor().build();
        try {
            var s = QuantServiceGrpc.newBlockingStub(ch);
            float[] w = weights(15);
            double[] h = hessian(COLS, 16);
            is(Status.Code.RESOURCE_EXHAUSTED, "set output to have it written as an artifact",
                    fails(() -> s.quantizeLayer(inline(w, h, "gptq-int4-g128").build())));
            QuantizeLayerResponse r = s.quantizeLayer(inline(w, h, "gptq-int4-g128").setOutput("jobs/big/l.safetensors").build());
            assertTrue(r.getArtifact().getSizeBytes() > 1024);
            // [8192, 4096] would need ~1.4 GiB: refused before the weights are read
            is(Status.Code.RESOURCE_EXHAUSTED, "over this server's per-layer limit", fails(() -> s.quantizeLayer(
                    inline(w, h, "gptq-int4-g128").setWeightsInline(f32("w", new float[0], 8192, 4096)).build())));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            small.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    // ---- QuantizeCheckpoint ----

    static QuantizeCheckpointRequest.Builder checkpoint(String recipe, String output) {
        return QuantizeCheckpointRequest.newBuilder().setModel(fx.model()).setHessians(fx.hessians()).setRecipe(recipe)
                .setOutput(output);
    }

    static List<QuantizeCheckpointProgress> run(QuantizeCheckpointRequest req) {
        List<QuantizeCheckpointProgress> all = new ArrayList<>();
        stub.quantizeCheckpoint(req).forEachRemaining(all::add);
        return all;
    }

    @Test
    void checkpointStreamsEveryLayerThenTheManifestOfWhatQuantizeWrites() throws IOException {
        List<QuantizeCheckpointProgress> msgs = run(checkpoint("rtn-int4-g128", "artifact:jobs/1/ck")
                .setKeepDense(".*self_attn\\.o_proj.*").build());
        assertEquals(31, msgs.size());   // 5 blocks × 6 linears (o_proj kept dense), then the manifest
        for (int i = 0; i < 30; i++) {
            var l = msgs.get(i).getLayer();
            assertEquals(i, l.getIndex());
            assertEquals(30, l.getCount());
            assertFalse(l.getModule().contains("o_proj"));
            assertTrue(l.getProxyLoss() >= 0 && l.getRows() > 0 && l.getCols() > 0);
        }
        var m = msgs.getLast().getManifest();
        var local = CheckpointQuantizer.quantize(fx.path(fx.model()), fx.path(fx.hessians()), root.resolve("local-ck"),
                CheckpointQuantizer.Options.of(Recipe.named("rtn-int4-g128"))
                        .withKeepDense(java.util.regex.Pattern.compile(".*self_attn\\.o_proj.*")), null);
        assertEquals("artifact:jobs/1/ck", m.getCheckpoint());
        assertEquals(30, m.getLayers());
        Map<String, String> got = new LinkedHashMap<>();
        m.getFilesList().forEach(f -> got.put(f.getUri().substring("artifact:jobs/1/ck/".length()), f.getSha256()));
        assertEquals(local.sha256(), got);
        assertEquals(local.proxyLoss(), m.getProxyLoss());
        assertEquals(4.0, m.getIndexBitsPerWeight());
        assertTrue(m.getStoredBitsPerWeight() > 4.0 && m.getFileBitsPerWeight() > 4.0);
        assertEquals(Sha256.of(fx.path(fx.hessians())), m.getHessiansSha256());
        // the directory exists now: again without replace_existing is ALREADY_EXISTS, with it the same bytes
        is(Status.Code.ALREADY_EXISTS, "jobs/1/ck", fails(() -> run(checkpoint("rtn-int4-g128", "artifact:jobs/1/ck").build())));
        var again = run(checkpoint("rtn-int4-g128", "jobs/1/ck").setKeepDense(".*self_attn\\.o_proj.*")
                .setReplaceExisting(true).build()).getLast().getManifest();
        assertEquals(m.getFilesList(), again.getFilesList());
    }

    @Test
    void checkpointBadInput() throws IOException {
        is(Status.Code.INVALID_ARGUMENT, "unknown recipe 'int1'; known recipes:",
                fails(() -> run(checkpoint("int1", "jobs/x").build())));
        is(Status.Code.INVALID_ARGUMENT, "Unclosed group",
                fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x").setKeepDense("(.*").build())));
        is(Status.Code.INVALID_ARGUMENT, "no linear layer left to quantize",
                fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x").setKeepDense(".*").build())));
        is(Status.Code.INVALID_ARGUMENT, "outside the artifact root",
                fails(() -> run(checkpoint("rtn-int4-g128", "../x").build())));
        is(Status.Code.INVALID_ARGUMENT, "overlaps the model directory",
                fails(() -> run(checkpoint("rtn-int4-g128", "models/stories260K/q").build())));
        is(Status.Code.INVALID_ARGUMENT, "needs the polar codebook",
                fails(() -> run(checkpoint("pcdvq-2.0", "jobs/x").build())));
        is(Status.Code.INVALID_ARGUMENT, "not a Hessian artifact", fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x")
                .setHessians("models/stories260K/model.safetensors").build())));
        is(Status.Code.INVALID_ARGUMENT, "cannot open model", fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x")
                .setModel("jobs").build())));
        is(Status.Code.NOT_FOUND, "does not exist", fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x")
                .setHessians("jobs/9/h.safetensors").build())));
        is(Status.Code.NOT_FOUND, "does not exist", fails(() -> run(checkpoint("rtn-int4-g128", "jobs/x")
                .setModel("models/none").build())));
        assertFalse(Files.exists(root.resolve("jobs/x")));
    }

    @Test
    void aDeadlineStopsBetweenLayersAndLeavesNoOutput() throws IOException {
        long t0 = System.nanoTime();
        // the whole 35-layer job takes ~250 ms on a quiet machine: the deadline must be well inside it (it was 300 ms,
        // and an idle machine finished the job first)
        Status s = fails(() -> stub.withDeadlineAfter(40, TimeUnit.MILLISECONDS).quantizeCheckpoint(
                checkpoint("pcdvq-2.0", "jobs/late").addCodebooks(fx.codebook()).build()).forEachRemaining(p -> {}));
        assertEquals(Status.Code.DEADLINE_EXCEEDED, s.getCode(), s.toString());
        assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "did not stop promptly");
        assertNothingNamed("late");
    }

    @Test
    void aClientCancelStopsTheJobFreesTheSlotAndLeavesNoOutput() throws Exception {
        String name = InProcessServerBuilder.generateName();
        // the service runs on the server's own executor here, so the client can act mid-stream
        Server own = InProcessServerBuilder.forName(name).addService(new QuantGrpcService(root,
                QuantGrpcService.Limits.defaults())).build().start();
        ManagedChannel ch = InProcessChannelBuilder.forName(name).build();
        try {
            var client = QuantServiceGrpc.newBlockingStub(ch);
            Context.CancellableContext cc = Context.current().withCancellation();
            cc.run(() -> {
                var it = client.quantizeCheckpoint(checkpoint("pcdvq-2.0", "jobs/cancelled").addCodebooks(fx.codebook()).build());
                assertEquals(0, it.next().getLayer().getIndex());
                cc.cancel(null);
                var e = assertThrows(StatusRuntimeException.class, () -> it.forEachRemaining(p -> {}));
                assertEquals(Status.Code.CANCELLED, e.getStatus().getCode());
            });
            // the server noticed: the slot frees up (one job at a time) and nothing was written
            long t0 = System.nanoTime();
            QuantizeLayerResponse after = null;
            while (after == null) {
                try {
                    after = client.quantizeLayer(inline(weights(1), hessian(COLS, 1), "rtn-int4-g128").build());
                } catch (StatusRuntimeException busy) {
                    assertEquals(Status.Code.RESOURCE_EXHAUSTED, busy.getStatus().getCode());
                    assertTrue(System.nanoTime() - t0 < TimeUnit.SECONDS.toNanos(10), "cancelled job kept running");
                    Thread.sleep(20);
                }
            }
            assertNothingNamed("cancelled");
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    /** Neither the directory nor a temporary sibling of it. */
    static void assertNothingNamed(String part) throws IOException {
        try (Stream<Path> s = Files.list(root.resolve("jobs"))) {
            List<Path> left = s.filter(p -> p.getFileName().toString().contains(part)).toList();
            assertEquals(List.of(), left);
        }
    }
}
