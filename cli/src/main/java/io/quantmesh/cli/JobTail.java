package io.quantmesh.cli;

import com.google.protobuf.InvalidProtocolBufferException;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.Topic;
import io.quantmesh.proto.v1.CheckpointQuantized;
import io.quantmesh.proto.v1.JobFailed;
import io.quantmesh.proto.v1.QuantResult;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeoutException;

/**
 * Everything the mesh said about its jobs' quant results, checkpoints and failures, every record kept as it arrived
 * (duplicates included: the fault tests count them). Reads the three topics from the beginning with no consumer
 * group, so it observes without taking part and survives a broker restart (the client reconnects).
 */
final class JobTail implements AutoCloseable {
    /** One arrival: the event and when this process received it. */
    record Seen<T>(T event, long receivedMs) {}

    /** What one job produced so far. */
    record Job(List<Seen<QuantResult>> results, List<Seen<CheckpointQuantized>> quantized, List<Seen<JobFailed>> failed) {
        Job() {
            this(new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
        }

        boolean done() {
            return !quantized.isEmpty() || !failed.isEmpty();
        }

        long distinctLayers() {
            return results.stream().mapToInt(s -> s.event().getLayerIndex()).distinct().count();
        }

        Job copy() {
            return new Job(List.copyOf(results), List.copyOf(quantized), List.copyOf(failed));
        }
    }

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, Topic> topics = new HashMap<>();
    private final Map<String, Job> jobs = new HashMap<>();
    private final Thread thread;
    private volatile boolean closed;

    JobTail(MeshConfig cfg) {
        Properties p = new Properties();
        p.put("bootstrap.servers", cfg.bootstrapServers());
        p.put("enable.auto.commit", "false");
        p.put("key.deserializer", StringDeserializer.class.getName());
        p.put("value.deserializer", ByteArrayDeserializer.class.getName());
        consumer = new KafkaConsumer<>(p);
        List<TopicPartition> parts = new ArrayList<>();
        for (Topic t : List.of(Topic.RESULTS, Topic.QUANTIZED, Topic.FAILED)) {
            topics.put(cfg.topic(t), t);
            for (int i = 0; i < t.partitions(); i++) parts.add(new TopicPartition(cfg.topic(t), i));
        }
        consumer.assign(parts);
        consumer.seekToBeginning(parts);
        thread = Thread.ofPlatform().name("job-tail").daemon().start(this::run);
    }

    private void run() {
        try {
            while (!closed) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) add(r);
            }
        } catch (WakeupException e) {
            if (!closed) throw e;
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    private synchronized void add(ConsumerRecord<String, byte[]> r) {
        long now = System.currentTimeMillis();
        try {
            switch (topics.get(r.topic())) {
                case RESULTS -> {
                    QuantResult e = QuantResult.parseFrom(r.value());
                    job(e.getSpec().getJobId()).results().add(new Seen<>(e, now));
                }
                case QUANTIZED -> {
                    CheckpointQuantized e = CheckpointQuantized.parseFrom(r.value());
                    job(e.getSpec().getJobId()).quantized().add(new Seen<>(e, now));
                }
                case FAILED -> {
                    JobFailed e = JobFailed.parseFrom(r.value());
                    job(e.getSpec().getJobId()).failed().add(new Seen<>(e, now));
                }
                default -> throw new IllegalStateException(r.topic());
            }
        } catch (InvalidProtocolBufferException e) {
            System.err.println("job-tail: unparseable record on " + r.topic() + ": " + e.getMessage());
        }
        notifyAll();
    }

    private synchronized Job job(String id) {
        return jobs.computeIfAbsent(id, k -> new Job());
    }

    /** A snapshot of what the job produced so far (empty when nothing yet). */
    synchronized Job snapshot(String jobId) {
        Job j = jobs.get(jobId);
        return j == null ? new Job() : j.copy();
    }

    /** Waits until the job has a checkpoint or a failure. */
    synchronized Job await(String jobId, Duration timeout) throws InterruptedException, TimeoutException {
        long end = System.nanoTime() + timeout.toNanos();
        while (true) {
            Job j = jobs.get(jobId);
            if (j != null && j.done()) return j.copy();
            long left = end - System.nanoTime();
            if (left <= 0) throw new TimeoutException("job " + jobId + " not done after " + timeout.toSeconds() + " s");
            wait(Math.max(1, left / 1_000_000));
        }
    }

    @Override
    public void close() throws InterruptedException {
        closed = true;
        consumer.wakeup();
        thread.join(5000);
    }
}
