package io.quantmesh.quant.kafka;

import io.quantmesh.calibration.kafka.CalibrationStage;
import io.quantmesh.codebook.PolarKey;
import io.quantmesh.codebook.WeightedKMeans;
import io.quantmesh.codebook.kafka.CodebookStage;
import io.quantmesh.core.Shared;
import io.quantmesh.core.codec.KMeansCodec;
import io.quantmesh.core.codec.PolarCodec;
import io.quantmesh.core.importer.Llama2cImporter;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.BadInputException;
import io.quantmesh.mesh.Emit;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.ArtifactRef;
import io.quantmesh.proto.v1.CalibrationCompleted;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.CodebooksCompleted;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import io.quantmesh.proto.v1.QuantResult;
import io.quantmesh.proto.v1.QuantTask;
import io.quantmesh.quant.CheckpointQuantizer;
import io.quantmesh.quant.CodebookFitter;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.regex.Pattern;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The five stage adapters chained by hand on the real stories260K (no broker): submitted → calibration → codebooks →
 * planner → workers (tasks in shuffled order) → assembler gives the checkpoint {@link CheckpointQuantizer#quantize}
 * (the CLI's {@code quantize}) writes for the same model, Hessians and recipe, byte for byte.
 */
class QuantStagesTest {
    @TempDir
    static Path tmp;
    static ArtifactStore store;
    static String modelUri;
    static QuantWorker worker;

    @BeforeAll
    static void importModel() throws IOException {
        Assumptions.assumeTrue(Shared.available(), "shared/ models not available");
        Path m = Shared.resolve("models/stories260K"), dense = tmp.resolve("stories260K");
        Llama2cImporter.importTo(m.resolve("stories260K.bin"), m.resolve("tok512.bin"), dense);
        store = new ArtifactStore(tmp.resolve("store"));
        modelUri = store.importDirectory(dense, "stories260K");
        worker = new QuantWorker(store, KMEANS, 0, "test-worker");
    }

    @AfterAll
    static void closeWorker() {
        if (worker != null) worker.close();
    }

    /** The CLI's VPTQ fitter (QuantizeCommand.weightedKMeans): codebook-svc's weighted k-means, as the wiring passes it. */
    static final CodebookFitter KMEANS = (vectors, weights, count, k, clusters, seed) -> new KMeansCodec(k,
            WeightedKMeans.fit(vectors, weights, count, new WeightedKMeans.Spec(k, clusters, seed, 100, 1e-4),
                    Parallel.common(), io.quantmesh.codebook.Cancellation.NONE).centroids());

    static JobSpec spec(String job, String recipe, String keepDense) {
        return JobSpec.newBuilder().setJobId(job).setModel(modelUri).setRecipe(recipe).setCalibSamples(16)
                .setCalibSeqLen(64).setSeed(7).setKeepDense(keepDense).setOutput("artifact:jobs/" + job + "/checkpoint")
                .build();
    }

    static <T> T only(List<Emit> emits, Topic topic, Class<T> type) {
        assertEquals(1, emits.size(), emits.toString());
        assertEquals(topic, emits.get(0).topic());
        return type.cast(emits.get(0).value());
    }

    /** The job up to the planner's input, through the real calibration and codebook stages. */
    static CodebooksCompleted calibrated(JobSpec spec) throws Exception {
        CalibrationStage calibration = CalibrationStage.create(store, null, "test");
        CalibrationCompleted c = only(calibration.handle(JobSubmitted.newBuilder().setSpec(spec).build()),
                Topic.CALIBRATED, CalibrationCompleted.class);
        return only(new CodebookStage(store, Parallel.common(), "test").handle(c), Topic.CODEBOOKS,
                CodebooksCompleted.class);
    }

    static List<QuantTask> plan(CodebooksCompleted c) throws Exception {
        List<QuantTask> tasks = new ArrayList<>();
        List<Emit> emits = new QuantPlanner(store).handle(c);
        for (int i = 0; i < emits.size(); i++) {
            Emit e = emits.get(i);
            assertEquals(Topic.TASKS, e.topic());
            assertEquals(c.getSpec().getJobId() + "/" + i, e.key());
            tasks.add((QuantTask) e.value());
        }
        return tasks;
    }

    static QuantResult work(QuantTask task) throws Exception {
        List<Emit> emits = worker.handle(task);
        assertEquals(task.getSpec().getJobId(), emits.get(0).key(), "a job's results share a partition");
        return only(emits, Topic.RESULTS, QuantResult.class);
    }

    /** Workers in a shuffled order, the assembler on every result: only the last one assembles. */
    static CheckpointQuantized runJob(List<QuantTask> tasks, List<QuantResult> results) throws Exception {
        List<QuantTask> shuffled = new ArrayList<>(tasks);
        Collections.shuffle(shuffled, new Random(11));
        QuantAssembler assembler = new QuantAssembler(store, "test");
        CheckpointQuantized done = null;
        for (int i = 0; i < shuffled.size(); i++) {
            QuantResult r = work(shuffled.get(i));
            results.add(r);
            List<Emit> emits = assembler.handle(r);
            if (i < shuffled.size() - 1) {
                assertEquals(List.of(), emits, "assembled before layer " + i + " of " + shuffled.size());
            } else {
                done = only(emits, Topic.QUANTIZED, CheckpointQuantized.class);
            }
        }
        return done;
    }

    /** What `quantmesh quantize` writes: same model, Hessians and options, codebooks built the CLI's way. */
    static Map<String, String> cliReference(JobSpec spec, ArtifactRef hessians, Path out) throws IOException {
        CheckpointQuantizer.Options o = new CheckpointQuantizer.Options(Recipe.named(spec.getRecipe()),
                spec.getKeepDense().isEmpty() ? null : Pattern.compile(spec.getKeepDense()), false, 0)
                .withCodebooks(id -> io.quantmesh.codebook.PolarCodebook.build(PolarKey.parse(id), Parallel.common(),
                        io.quantmesh.codebook.Cancellation.NONE).codec()).withFitter(KMEANS);
        return CheckpointQuantizer.quantize(store.resolve(spec.getModel()), store.resolve(hessians.getUri()), out, o,
                null).sha256();
    }

    static Map<String, String> shaOf(CheckpointQuantized done) {
        Map<String, String> out = new java.util.TreeMap<>();
        for (ArtifactRef f : done.getFilesList()) out.put(f.getUri().substring(f.getUri().lastIndexOf('/') + 1), f.getSha256());
        return out;
    }

    @Test
    void gptqInt2ThroughTheStagesIsTheClisCheckpointAndSurvivesRedeliveries() throws Exception {
        JobSpec spec = spec("j-gptq2", "gptq-int2-g128", "");
        CodebooksCompleted c = calibrated(spec);
        assertEquals(0, c.getCodebooksCount(), "scalar recipes need no codebook");
        List<QuantTask> tasks = plan(c);
        assertEquals(35, tasks.size());
        for (int i = 0; i < tasks.size(); i++) {
            QuantTask t = tasks.get(i);
            assertEquals(i, t.getLayerIndex());
            assertEquals(35, t.getLayerCount());
            assertEquals(String.format("artifact:jobs/j-gptq2/layers/%05d.safetensors", i), t.getOutput());
            assertTrue(t.getHessianKey().endsWith(".hessian"), t.getHessianKey());
        }
        List<QuantResult> results = new ArrayList<>();
        CheckpointQuantized done = runJob(tasks, results);
        assertEquals(spec.getOutput(), done.getCheckpoint());
        assertEquals(35, done.getLayers());
        assertTrue(done.getIndexBitsPerWeight() == 2.0, "" + done.getIndexBitsPerWeight());
        double loss = results.stream().mapToDouble(QuantResult::getProxyLoss).sum();
        assertEquals(loss, done.getProxyLoss(), 1e-9 * loss);
        for (QuantResult r : results) {
            assertTrue(r.getTiming().getComputeMs() >= 0 && r.getTiming().getFinishedMs() >= r.getTiming().getStartedMs());
            assertEquals("test-worker", r.getTiming().getWorker());
            assertEquals(c.getHessians(), r.getHessians());
        }

        Map<String, String> cli = cliReference(spec, c.getHessians(), tmp.resolve("cli-gptq2"));
        assertEquals(cli, shaOf(done), "mesh checkpoint = CLI checkpoint, byte for byte");
        for (ArtifactRef f : done.getFilesList()) store.verified(JobArtifacts.stored(f));

        // a redelivered task rewrites identical bytes and re-emits an equal result (only the timing differs)
        QuantResult first = results.stream().filter(r -> r.getLayerIndex() == 3).findFirst().orElseThrow();
        QuantResult again = work(tasks.get(3));
        assertEquals(first.toBuilder().clearTiming().build(), again.toBuilder().clearTiming().build());
        store.verified(JobArtifacts.stored(first.getLayer()));

        // a duplicated result re-assembles the same checkpoint over the existing one and re-emits
        CheckpointQuantized twice = only(new QuantAssembler(store, "other").handle(results.get(0)), Topic.QUANTIZED,
                CheckpointQuantized.class);
        assertEquals(shaOf(done), shaOf(twice));
        assertEquals(cli, CheckpointQuantizer.filesSha256(store.resolve(spec.getOutput())));
        try (var s = Files.list(store.resolve("jobs/j-gptq2"))) {
            assertEquals(List.of("checkpoint", "hessians.safetensors", "layer-digests", "layers"),
                    s.map(p -> p.getFileName().toString()).sorted().toList(), "no temporary directory left behind");
        }

        // a worker killed between its layer and its digest: not done yet, whatever the result stream says
        Path digest = store.resolve(JobArtifacts.digestUri("j-gptq2", 9));
        byte[] kept = Files.readAllBytes(digest);
        Files.delete(digest);
        assertEquals(List.of(), new QuantAssembler(store, "other").handle(results.get(0)));
        Files.write(digest, kept);
        // a layer whose bytes changed after its worker recorded them is never assembled
        Path layer9 = store.resolve(JobArtifacts.layerUri("j-gptq2", 9));
        byte[] good = Files.readAllBytes(layer9);
        byte[] bad = good.clone();
        bad[bad.length - 1] ^= 1;
        Files.write(layer9, bad);
        BadInputException e = assertThrows(BadInputException.class,
                () -> new QuantAssembler(store, "other").handle(results.get(0)));
        assertTrue(e.getMessage().contains("layers/00009.safetensors is corrupt"), e.getMessage());
        Files.write(layer9, good);
        assertEquals(cli, CheckpointQuantizer.filesSha256(store.resolve(spec.getOutput())), "the checkpoint is untouched");
    }

    @Test
    void pcdvqThroughTheStagesCodesAgainstTheClisCodebook() throws Exception {
        JobSpec spec = spec("j-pcdvq", "pcdvq-2.0", "");
        CodebooksCompleted c = calibrated(spec);
        assertEquals(1, c.getCodebooksCount());
        assertEquals("artifact:codebooks/polar-k8-a14-b2-s0-v1.safetensors", c.getCodebooks(0).getArtifact().getUri());
        List<QuantTask> tasks = plan(c);
        CheckpointQuantized done = runJob(tasks, new ArrayList<>());
        assertEquals(cliReference(spec, c.getHessians(), tmp.resolve("cli-pcdvq")), shaOf(done));
        String key = "pcdvq-2.0 polar-k8-a14-b2-s0-v1=" + c.getCodebooks(0).getArtifact().getSha256();
        assertEquals(1, worker.quantizers().idle(key), "one quantizer (one codec) served every task");
    }

    @Test
    void oneWorkerInstanceServesConcurrentConsumers() throws Exception {
        // StageRunner's consumers of one process share the Stage instance: three threads, one QuantWorker
        JobSpec spec = spec("j-conc", "gptq-int4-g128", "");
        CodebooksCompleted c = calibrated(spec);
        List<QuantTask> tasks = plan(c);
        List<QuantResult> results;
        var pool = java.util.concurrent.Executors.newFixedThreadPool(3);
        try {
            List<java.util.concurrent.Future<QuantResult>> futures = new ArrayList<>();
            for (QuantTask t : tasks) futures.add(pool.submit(() -> work(t)));
            results = new ArrayList<>();
            for (var f : futures) results.add(f.get());
        } finally {
            pool.shutdown();
        }
        String key = "gptq-int4-g128";
        assertTrue(worker.quantizers().idle(key) >= 1 && worker.quantizers().idle(key) <= 3, "" + worker.quantizers().idle(key));
        CheckpointQuantized done = only(new QuantAssembler(store, "test").handle(results.get(7)), Topic.QUANTIZED,
                CheckpointQuantized.class);
        assertEquals(cliReference(spec, c.getHessians(), tmp.resolve("cli-conc")), shaOf(done));
    }

    @Test
    void vptqThroughTheStagesWithTheWiredFitter() throws Exception {
        JobSpec spec = spec("j-vptq", "vptq-v8-2.0", "");
        CodebooksCompleted c = calibrated(spec);
        assertEquals(0, c.getCodebooksCount(), "VPTQ fits its codebooks per layer, inside the worker");
        List<QuantTask> tasks = plan(c);
        try (QuantWorker bare = new QuantWorker(store, 0, "no-fitter")) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> bare.handle(tasks.get(0)));
            assertTrue(e.getMessage().contains("no k-means fitter"), e.getMessage());
        }
        CheckpointQuantized done = runJob(tasks, new ArrayList<>());
        assertEquals(cliReference(spec, c.getHessians(), tmp.resolve("cli-vptq")), shaOf(done));
    }

    @Test
    void keepDenseReachesThePlanAndTheProducerBlock() throws Exception {
        JobSpec spec = spec("j-kd", "rtn-int4-g128", ".*mlp\\..*");
        CodebooksCompleted c = calibrated(spec);
        List<QuantTask> tasks = plan(c);
        assertEquals(20, tasks.size());
        assertTrue(tasks.stream().noneMatch(t -> t.getTensor().contains("mlp")));
        CheckpointQuantized done = runJob(tasks, new ArrayList<>());
        assertEquals(cliReference(spec, c.getHessians(), tmp.resolve("cli-kd")), shaOf(done));
    }

    @Test
    void badInputFailsTheJobWithTheReason() throws Exception {
        JobSpec spec = spec("j-bad", "gptq-int2-g128", "");
        CodebooksCompleted c = calibrated(spec);
        QuantPlanner planner = new QuantPlanner(store);
        BadInputException e = assertThrows(BadInputException.class, () -> planner.handle(c.toBuilder()
                .setSpec(spec.toBuilder().setRecipe("int1")).build()));
        assertTrue(e.getMessage().startsWith("unknown recipe 'int1'"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> planner.handle(c.toBuilder()
                .setSpec(spec.toBuilder().setKeepDense("(")).build()));
        assertTrue(e.getMessage().contains("keep_dense '('"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> planner.handle(c.toBuilder()
                .setSpec(spec.toBuilder().setModel("artifact:../elsewhere")).build()));
        assertTrue(e.getMessage().startsWith("model: ") && e.getMessage().contains(".."), e.getMessage());
        e = assertThrows(BadInputException.class, () -> planner.handle(c.toBuilder()
                .setHessians(c.getHessians().toBuilder().setUri("artifact:/etc/passwd")).build()));
        assertTrue(e.getMessage().startsWith("hessians: "), e.getMessage());
        e = assertThrows(BadInputException.class, () -> planner.handle(c.toBuilder()
                .setSpec(spec.toBuilder().setRecipe("pcdvq-2.0")).build()));
        assertTrue(e.getMessage().contains("needs codebook polar-k8-a14-b2-s0-v1"), e.getMessage());

        List<QuantTask> tasks = plan(c);
        QuantTask task = tasks.get(0);
        QuantTask down = tasks.stream().filter(t -> t.getTensor().contains("down_proj")).findFirst().orElseThrow();
        // a Hessian artifact whose bytes are not the ones the event names
        e = assertThrows(BadInputException.class, () -> worker.handle(task.toBuilder()
                .setHessians(task.getHessians().toBuilder().setSha256("0".repeat(64))).build()));
        assertTrue(e.getMessage().contains("is corrupt"), e.getMessage());
        e = assertThrows(BadInputException.class, () -> worker.handle(task.toBuilder().setTensor("model.nope.weight").build()));
        assertTrue(e.getMessage().contains("has no tensor model.nope.weight"), e.getMessage());
        // the Hessian of another site (172 inputs) for a 64-input weight
        IllegalArgumentException wrong = assertThrows(IllegalArgumentException.class, () -> worker.handle(
                task.toBuilder().setHessianKey(down.getHessianKey()).build()));
        assertTrue(wrong.getMessage().contains("needs F64 [64, 64]"), wrong.getMessage());
        assertThrows(IllegalArgumentException.class, () -> worker.handle(task.toBuilder()
                .setOutput("artifact:../../escape.safetensors").build()));
        e = assertThrows(BadInputException.class, () -> worker.handle(task.toBuilder()
                .setSpec(spec.toBuilder().setJobId("../up")).build()));
        assertTrue(e.getMessage().contains("job id '../up'"), e.getMessage());
        assertFalse(Files.exists(store.resolve(task.getOutput())), "no layer written for a failed task");

        QuantResult r = work(task);
        QuantAssembler assembler = new QuantAssembler(store, "test");
        assertEquals(List.of(), assembler.handle(r), "34 layers missing: nothing to do yet");
        e = assertThrows(BadInputException.class, () -> assembler.handle(r.toBuilder().setLayerIndex(40).build()));
        assertTrue(e.getMessage().contains("not a layer of the plan"), e.getMessage());
    }
}
