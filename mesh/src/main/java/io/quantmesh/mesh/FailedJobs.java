package io.quantmesh.mesh;

import io.quantmesh.proto.v1.JobFailed;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The ids of jobs that failed, followed from jobs.failed (every partition, from the beginning, no group): a runner
 * skips the remaining units of a failed job instead of spending a worker on them.
 */
final class FailedJobs implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(FailedJobs.class);

    private final MeshConfig cfg;
    private final Set<String> ids = ConcurrentHashMap.newKeySet();
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread thread;
    private volatile boolean closing;

    FailedJobs(MeshConfig cfg) {
        this.cfg = cfg;
        this.consumer = new KafkaConsumer<>(cfg.consumerProperties(null));
        this.thread = Thread.ofPlatform().name("quantmesh-failed-jobs").daemon().unstarted(this::run);
    }

    void start() {
        thread.start();
    }

    boolean contains(String jobId) {
        return !jobId.isEmpty() && ids.contains(jobId);
    }

    void add(String jobId) {
        if (!jobId.isEmpty()) ids.add(jobId);
    }

    private void run() {
        try {
            String topic = cfg.topic(Topic.FAILED);
            List<TopicPartition> parts = List.of();
            while (!closing && parts.isEmpty()) {
                List<PartitionInfo> info;
                try {
                    info = consumer.partitionsFor(topic, Duration.ofSeconds(5));
                } catch (org.apache.kafka.common.errors.TimeoutException e) {
                    info = List.of(); // the topic does not exist yet
                }
                parts = info == null ? List.of() : info.stream().map(p -> new TopicPartition(topic, p.partition())).toList();
                if (parts.isEmpty()) Thread.sleep(1_000);
            }
            consumer.assign(parts);
            consumer.seekToBeginning(parts);
            while (!closing) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    try {
                        add(JobFailed.parseFrom(r.value()).getSpec().getJobId());
                    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
                        add(StageRunner.jobId(r.key()));
                    }
                }
            }
        } catch (WakeupException | InterruptedException e) {
            // closing
        } catch (RuntimeException e) {
            if (!closing) log.warn("following {} stopped: {}", cfg.topic(Topic.FAILED), e.toString());
        } finally {
            consumer.close(Duration.ofSeconds(2));
        }
    }

    @Override
    public void close() {
        closing = true;
        consumer.wakeup();
        try {
            thread.join(10_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
