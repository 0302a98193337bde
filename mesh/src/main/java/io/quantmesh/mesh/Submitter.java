package io.quantmesh.mesh;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.JobSpec;
import io.quantmesh.proto.v1.JobSubmitted;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;

import java.time.Duration;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Locale;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeoutException;

/**
 * What {@code quantmesh submit} does against a running mesh: note where every topic ends, produce the
 * {@link JobSubmitted}, then follow that job's events from those offsets until it is quantized or failed.
 */
public final class Submitter implements AutoCloseable {
    /** Receives each event of the followed job, in arrival order (duplicates included). */
    @FunctionalInterface
    public interface Listener {
        void on(Topic topic, Message event);
    }

    private static final DateTimeFormatter STAMP = DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss", Locale.ROOT);

    private final MeshConfig cfg;
    private final EventReader reader;
    private final KafkaProducer<String, byte[]> producer;

    /** Connects; fails with a clear reason if no mesh answers within {@code timeout}. */
    public Submitter(MeshConfig cfg, Duration timeout) {
        this.cfg = cfg.requireComplete();
        this.reader = new EventReader(cfg, timeout);
        reader.fromEnd();
        this.producer = new KafkaProducer<>(cfg.producerProperties());
    }

    /** e.g. "j-20261122-081500-3f9a-stories260k": sortable by time, unique, names the job's store directory. */
    public static String newJobId(String modelName) {
        String model = modelName.toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("^-+|-+$", "");
        if (model.length() > 40) model = model.substring(0, 40);
        String rnd = String.format(Locale.ROOT, "%04x", ThreadLocalRandom.current().nextInt(1 << 16));
        return "j-" + LocalDateTime.now().format(STAMP) + "-" + rnd + (model.isEmpty() ? "" : "-" + model);
    }

    /** Produces the job and waits for the broker's acknowledgement. */
    public void submit(JobSpec spec) throws ExecutionException, InterruptedException {
        if (spec.getJobId().isBlank()) throw new IllegalArgumentException("job id is required");
        producer.send(new ProducerRecord<>(cfg.topic(Topic.SUBMITTED), spec.getJobId(),
                JobSubmitted.newBuilder().setSpec(spec).build().toByteArray())).get();
    }

    /**
     * Calls {@code listener} for every event of job {@code jobId} until a {@link CheckpointQuantized} or
     * {@link JobFailed} of it arrives, which is returned.
     */
    public Message follow(String jobId, Listener listener, Duration timeout) throws TimeoutException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            for (EventReader.Event e : reader.poll(Duration.ofMillis(200))) {
                if (!jobId.equals(StageRunner.jobId(e.record().key()))) continue;
                Message m;
                try {
                    m = Events.parse(e.topic(), e.record().value());
                } catch (InvalidProtocolBufferException ex) {
                    continue;
                }
                listener.on(e.topic(), m);
                if (m instanceof CheckpointQuantized || m instanceof JobFailed) return m;
            }
        }
        throw new TimeoutException("job " + jobId + " did not finish within " + timeout.toSeconds() + " s");
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
        reader.close();
    }
}
