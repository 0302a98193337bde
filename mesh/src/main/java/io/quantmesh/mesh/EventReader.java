package io.quantmesh.mesh;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.TimeoutException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Reads the pipeline's topics without a consumer group (every partition assigned, nothing committed): the job view
 * reads them from the beginning, {@code submit} from where they ended before it produced its job.
 */
final class EventReader implements AutoCloseable {
    /** A record and the topic it came from. */
    record Event(Topic topic, ConsumerRecord<String, byte[]> record) {}

    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<String, Topic> byName = new HashMap<>();
    private final List<TopicPartition> partitions = new ArrayList<>();

    EventReader(MeshConfig cfg, Duration timeout) {
        this.consumer = new KafkaConsumer<>(cfg.consumerProperties(null));
        for (Topic t : Topic.values()) {
            byName.put(cfg.topic(t), t);
            List<PartitionInfo> info;
            try {
                info = consumer.partitionsFor(cfg.topic(t), timeout);
            } catch (TimeoutException e) {
                throw new IllegalStateException("no mesh at " + cfg.bootstrapServers() + " (topic " + cfg.topic(t)
                        + " not reachable within " + timeout.toSeconds() + " s)");
            }
            if (info != null) for (PartitionInfo p : info) partitions.add(new TopicPartition(p.topic(), p.partition()));
        }
        consumer.assign(partitions);
    }

    void fromBeginning() {
        consumer.seekToBeginning(partitions);
    }

    void fromEnd() {
        consumer.seekToEnd(partitions);
        for (TopicPartition p : partitions) consumer.position(p); // resolve now, before anything is produced
    }

    Map<TopicPartition, Long> endOffsets() {
        return consumer.endOffsets(partitions);
    }

    boolean reached(Map<TopicPartition, Long> ends) {
        for (Map.Entry<TopicPartition, Long> e : ends.entrySet()) {
            if (consumer.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    List<Event> poll(Duration d) {
        List<Event> out = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : consumer.poll(d)) out.add(new Event(byName.get(r.topic()), r));
        return out;
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(2));
    }
}
