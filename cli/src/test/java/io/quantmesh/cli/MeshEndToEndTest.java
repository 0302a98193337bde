package io.quantmesh.cli;

import io.grpc.ManagedChannel;
import io.grpc.ManagedChannelBuilder;
import io.quantmesh.core.Shared;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.Submitter;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;
import io.quantmesh.proto.v1.CollectHessiansProgress;
import io.quantmesh.proto.v1.CollectHessiansRequest;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.QuantServiceGrpc;
import io.quantmesh.proto.v1.QuantizeCheckpointProgress;
import io.quantmesh.proto.v1.QuantizeCheckpointRequest;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.quant.CheckpointQuantizer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Iterator;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static io.quantmesh.cli.LlamaCommandsTest.run;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Issue 7 item 1 on the one-process mesh (embedded KRaft broker, every stage, real loopback gRPC): stories260K
 * submitted with {@code quantmesh submit} comes out byte-identical to {@code quantmesh quantize} with the same recipe
 * and the same calibration (Hessians collected through the mesh's calibration gRPC endpoint with the same settings,
 * themselves byte-identical to the mesh's), and to the mesh's quant-svc gRPC QuantizeCheckpoint. Item 4: bad input fails fast on jobs.failed and the mesh keeps serving.
 */
class MeshEndToEndTest {
    @TempDir
    static Path tmp;
    private static Path hf, store;
    private static LocalMesh mesh;

    @BeforeAll
    static void up() throws Exception {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        hf = tmp.resolve("stories260K");
        Llama2cImporter.importTo(Shared.resolve("models/stories260K/stories260K.bin"),
                Shared.resolve("models/stories260K/tok512.bin"), hf);
        store = tmp.resolve("store");
        mesh = LocalMesh.start(new LocalMesh.Options(store, 0, 2, 0, null),
                MeshConfig.fromEnv(Map.of()).withWorkerId("e2e"));
    }

    @AfterAll
    static void down() throws Exception {
        if (mesh != null) mesh.close();
    }

    private static String group(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        assertTrue(m.find(), "no /" + regex + "/ in:\n" + text);
        return m.group(1);
    }

    @ParameterizedTest
    @ValueSource(strings = {"gptq-int2-g128", "pcdvq-2.0"})
    void theMeshCheckpointIsByteIdenticalToQuantize(String recipe) throws Exception {
        LlamaCommandsTest.Run r = run("submit", "--model", hf.toString(), "--recipe", recipe, "--samples", "16",
                "--seq-len", "64", "--seed", "11", "--kafka", mesh.bootstrapServers(), "--store", store.toString(),
                "--timeout", "300");
        assertEquals(0, r.code(), r.out() + r.err());
        String job = group(r.out(), "job (\\S+)");
        String modelUri = group(r.out(), "model (artifact:\\S+),");
        assertTrue(r.out().contains("[ 35/35]"), r.out());
        Path checkpoint = store.resolve("jobs/" + job + "/checkpoint");
        assertTrue(r.out().contains("checkpoint " + checkpoint.toRealPath()), r.out());

        // the same calibration through the mesh's gRPC endpoint (loopback): same bytes as the Kafka path's
        Path refHessians = store.resolve("reference/" + recipe + "/hessians.safetensors");
        ManagedChannel ch = ManagedChannelBuilder.forAddress("127.0.0.1", mesh.grpcPorts().get("calibration"))
                .usePlaintext().build();
        try {
            Iterator<CollectHessiansProgress> it = CalibrationServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(120, TimeUnit.SECONDS)
                    .collectHessians(CollectHessiansRequest.newBuilder().setModel(modelUri).setSamples(16).setSeqLen(64)
                            .setSeed(11).setOutput("artifact:reference/" + recipe + "/hessians.safetensors").build());
            CollectHessiansProgress last = null;
            while (it.hasNext()) last = it.next();
            assertTrue(last != null && last.hasResult());
        } finally {
            ch.shutdownNow();
        }
        assertArrayEquals(Files.readAllBytes(refHessians),
                Files.readAllBytes(store.resolve("jobs/" + job + "/hessians.safetensors")));

        // the quant-svc gRPC endpoint of the mesh, from the same Hessians (and the codebook the mesh built)
        Path viaGrpc = store.resolve("reference/" + recipe + "/grpc-checkpoint");
        ch = ManagedChannelBuilder.forAddress("127.0.0.1", mesh.grpcPorts().get("quant")).usePlaintext().build();
        try {
            QuantizeCheckpointRequest.Builder req = QuantizeCheckpointRequest.newBuilder().setModel(modelUri)
                    .setHessians("artifact:reference/" + recipe + "/hessians.safetensors").setRecipe(recipe)
                    .setOutput("artifact:reference/" + recipe + "/grpc-checkpoint");
            for (String id : Recipe.named(recipe).codebooks()) req.addCodebooks("artifact:codebooks/" + id + ".safetensors");
            Iterator<QuantizeCheckpointProgress> it = QuantServiceGrpc.newBlockingStub(ch)
                    .withDeadlineAfter(120, TimeUnit.SECONDS).quantizeCheckpoint(req.build());
            while (it.hasNext()) it.next();
        } finally {
            ch.shutdownNow();
        }

        Path reference = tmp.resolve("quantize-" + recipe);
        LlamaCommandsTest.Run q = run("quantize", "--model", hf.toString(), "--recipe", recipe, "--out",
                reference.toString(), "--hessians", refHessians.toString());
        assertEquals(0, q.code(), q.err());
        Map<String, String> expected = CheckpointQuantizer.filesSha256(reference);
        assertEquals(expected, CheckpointQuantizer.filesSha256(checkpoint));
        assertEquals(expected, CheckpointQuantizer.filesSha256(viaGrpc));
        for (Map.Entry<String, String> f : expected.entrySet()) {
            assertTrue(r.out().matches("(?s).*" + Pattern.quote(f.getKey()) + " +[0-9,]+ bytes  sha256 "
                    + f.getValue() + ".*"), "submit prints " + f.getKey() + "'s sha256:\n" + r.out());
        }
    }

    @Test
    void badInputFailsFastWithAReasonAndTheMeshGoesOn() throws Exception {
        LlamaCommandsTest.Run r = run("submit", "--model", hf.toString(), "--recipe", "int1", "--kafka",
                mesh.bootstrapServers(), "--store", store.toString(), "--timeout", "60");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FAILED      at calibration: unknown recipe 'int1'; known recipes:"), r.out());
        String unknownRecipe = group(r.out(), "job (\\S+)");

        // a corrupt checkpoint: the weights file cut short
        Path corrupt = tmp.resolve("corrupt");
        Files.createDirectories(corrupt);
        for (String f : new String[]{"config.json", "tokenizer.bin"}) {
            Files.copy(hf.resolve(f), corrupt.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
        byte[] weights = Files.readAllBytes(hf.resolve("model.safetensors"));
        Files.write(corrupt.resolve("model.safetensors"), java.util.Arrays.copyOf(weights, weights.length / 2));
        r = run("submit", "--model", corrupt.toString(), "--recipe", "gptq-int2-g128", "--kafka",
                mesh.bootstrapServers(), "--store", store.toString(), "--timeout", "60");
        assertEquals(1, r.code(), r.out() + r.err());
        assertTrue(r.out().contains("FAILED      at calibration: cannot open model artifact:models/corrupt-"), r.out());

        // an artifact URI pointing outside the store, submitted by hand
        MeshConfig cfg = mesh.config();
        String job = Submitter.newJobId("escape");
        try (Submitter s = new Submitter(cfg, Duration.ofSeconds(10))) {
            s.submit(JobSpec.newBuilder().setJobId(job).setModel("artifact:../../etc").setRecipe("gptq-int2-g128")
                    .setOutput("artifact:jobs/" + job + "/checkpoint").build());
            JobFailed f = assertInstanceOf(JobFailed.class, s.follow(job, (t, e) -> {}, Duration.ofSeconds(60)));
            assertEquals("calibration", f.getStage());
            assertTrue(f.getReason().contains("'..' segment"), f.getReason());
        }

        // still serving: a good job after the bad ones, and `jobs` tells them apart
        r = run("submit", "--model", hf.toString(), "--recipe", "rtn-int4-g128", "--samples", "4", "--seq-len", "16",
                "--kafka", mesh.bootstrapServers(), "--store", store.toString(), "--timeout", "120");
        assertEquals(0, r.code(), r.out() + r.err());
        String good = group(r.out(), "job (\\S+)");
        r = run("jobs", "--kafka", mesh.bootstrapServers(), "--store", store.toString());
        assertEquals(0, r.code(), r.err());
        assertTrue(r.out().matches("(?s).*" + unknownRecipe + " +int1 +FAILED .*calibration: unknown recipe.*"), r.out());
        assertTrue(r.out().matches("(?s).*" + job + " +gptq-int2-g128 +FAILED .*'\\.\\.' segment.*"), r.out());
        assertTrue(r.out().matches("(?s).*" + good + " +rtn-int4-g128 +QUANTIZED +35/35 +artifact:jobs/" + good
                + "/checkpoint.*"), r.out());
    }

    @Test
    void badFlagsExitTwoWithOneLine() {
        LlamaCommandsTest.Run r = run("serve", "bogus", "--kafka", mesh.bootstrapServers(), "--store", store.toString());
        assertEquals(2, r.code());
        assertEquals("quantmesh serve: unknown stage 'bogus'; known: calibration, codebook, quant-planner, quant-worker, "
                + "quant-assembler, quant", r.err().strip());
        r = run("jobs", "--store", tmp.resolve("no-mesh-here").toString());
        assertEquals(2, r.code());
        assertTrue(r.err().strip().startsWith("quantmesh jobs: no mesh found: start one with 'quantmesh mesh up --store"),
                r.err());
        r = run("submit", "--model", tmp.resolve("missing").toString(), "--recipe", "gptq-int2-g128", "--kafka",
                mesh.bootstrapServers(), "--store", store.toString());
        assertEquals(2, r.code());
        assertTrue(r.err().contains("not a model directory"), r.err());
        assertEquals(2, run("mesh", "up", "--workers", "0", "--store", tmp.resolve("w0").toString()).code());
    }
}
