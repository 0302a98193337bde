package io.quantmesh.cli;

import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.kafka.EmbeddedKafka;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.mesh.Topic;
import io.quantmesh.mesh.Topics;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import io.quantmesh.calibration.kafka.CalibrationStage;
import io.quantmesh.core.recipe.Recipe;
import io.quantmesh.quant.CheckpointQuantizer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;

/**
 * The mesh of the fault tests and {@code bench-mesh}: an embedded broker, the artifact store and, in this JVM, the
 * real calibration, codebook, planner and assembler stages as {@code quantmesh mesh up} runs them ({@link MeshStages});
 * quant workers run elsewhere
 * ({@link WorkerProcess}) unless {@link #startInProcessWorker} is called. Jobs go in as {@link JobSubmitted} events,
 * exactly as {@code quantmesh submit} sends them, and {@link #tail()} watches what comes out.
 */
final class MeshHarness implements AutoCloseable {
    private final EmbeddedKafka kafka;
    private final ArtifactStore store;
    private final MeshConfig cfg;
    private final List<StageRunner> runners = new ArrayList<>();
    private final KafkaProducer<String, byte[]> producer;
    private final JobTail tail;

    private MeshHarness(EmbeddedKafka kafka, ArtifactStore store, MeshConfig cfg) {
        this.kafka = kafka;
        this.store = store;
        this.cfg = cfg;
        Properties p = cfg.producerProperties();
        p.put("key.serializer", StringSerializer.class.getName());
        p.put("value.serializer", ByteArraySerializer.class.getName());
        this.producer = new KafkaProducer<>(p);
        this.tail = new JobTail(cfg);
    }

    /** Starts the broker (log directory under {@code dir}), the store ({@code dir/store}) and the in-JVM stages. */
    static MeshHarness start(Path dir) throws Exception {
        EmbeddedKafka kafka = new EmbeddedKafka(dir.resolve("kafka"), 0).start();
        ArtifactStore store = new ArtifactStore(dir.resolve("store"));
        MeshConfig cfg = MeshConfig.fromEnv(Map.of("QUANTMESH_KAFKA_BOOTSTRAP_SERVERS", kafka.bootstrapServers(),
                "QUANTMESH_STORE", store.root().toString(), "QUANTMESH_WORKER_ID", "harness"));
        try (Admin admin = Admin.create(Map.of("bootstrap.servers", cfg.bootstrapServers()))) {
            Topics.ensure(admin, cfg);
        }
        MeshHarness h = new MeshHarness(kafka, store, cfg);
        h.runners.addAll(MeshStages.start(List.of(MeshStages.CALIBRATION, MeshStages.CODEBOOK,
                MeshStages.QUANT_PLANNER, MeshStages.QUANT_ASSEMBLER), cfg, store, null, s -> 1));
        return h;
    }

    /** A quant worker in this JVM (the bad-input tests need no separate processes). */
    void startInProcessWorker() throws IOException {
        runners.addAll(MeshStages.start(List.of(MeshStages.QUANT_WORKER), cfg, store, null, s -> 1));
    }

    /** Sends the job as {@code quantmesh submit} does; returns when the broker has it. */
    void submit(JobSpec spec) throws Exception {
        producer.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), spec.getJobId(),
                JobSubmitted.newBuilder().setSpec(spec).build().toByteArray())).get();
    }

    /** A spec with the tests' calibration (16 × 128 tokens, seed 7) and the checkpoint under the job's directory. */
    static JobSpec spec(String jobId, String modelUri, String recipe) {
        return JobSpec.newBuilder().setJobId(jobId).setModel(modelUri).setRecipe(recipe).setCalibSamples(16)
                .setCalibSeqLen(128).setSeed(7).setOutput(ArtifactStore.SCHEME + "jobs/" + jobId + "/checkpoint")
                .setSubmittedAtMs(System.currentTimeMillis()).build();
    }

    /** Copies a model directory into the store as {@code quantmesh submit --model} does. */
    String importModel(Path dir, String name) throws IOException {
        return store.importDirectory(dir, name);
    }

    /**
     * The files in a job's layer directory, sorted; {@code hidden}: only the store's temporaries (".*.tmp", left by
     * writers killed before their rename), otherwise only the published artifacts.
     */
    List<Path> layerFiles(String jobId, boolean hidden) throws IOException {
        Path dir = store.resolve(ArtifactStore.SCHEME + "jobs/" + jobId + "/layers");
        if (!Files.isDirectory(dir)) return List.of();
        try (var s = Files.list(dir)) {
            return s.filter(p -> p.getFileName().toString().startsWith(".") == hidden).sorted().toList();
        }
    }

    /**
     * What {@code quantmesh quantize} writes for the job's model, recipe and Hessian artifact (the one the mesh's
     * calibration stage wrote): file name → sha256. The mesh's checkpoint must be these bytes.
     */
    Map<String, String> oneProcessReference(JobSpec spec, Path out) throws IOException {
        Path model = store.resolve(spec.getModel());
        Path hessians = store.resolve(CalibrationStage.hessiansUri(spec.getJobId()));
        var options = new CheckpointQuantizer.Options(Recipe.named(spec.getRecipe()), null, false, 0);
        return CheckpointQuantizer.quantize(model, hessians, out, options, null).sha256();
    }

    /** The job's checkpoint as the mesh wrote it: file name → sha256. */
    Map<String, String> checkpoint(JobSpec spec) throws IOException {
        return CheckpointQuantizer.filesSha256(store.resolve(spec.getOutput()));
    }

    EmbeddedKafka kafka() {
        return kafka;
    }

    ArtifactStore store() {
        return store;
    }

    MeshConfig config() {
        return cfg;
    }

    JobTail tail() {
        return tail;
    }

    @Override
    public void close() throws Exception {
        tail.close();
        producer.close();
        MeshStages.close(runners);
        kafka.close();
    }
}
