package io.quantmesh.mesh;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;

/**
 * Where a stage finds the mesh, from environment variables overridable by flags (the Strimzi client examples' way):
 *
 * <pre>
 * QUANTMESH_KAFKA_BOOTSTRAP_SERVERS  host:port[,host:port]   (required unless given by a flag)
 * QUANTMESH_TOPIC_PREFIX             "quantmesh."
 * QUANTMESH_GROUP_PREFIX             "quantmesh-"
 * QUANTMESH_STORE                    artifact store root       (required unless given by a flag)
 * QUANTMESH_CONCURRENCY              consumers per stage in this process (1)
 * QUANTMESH_MAX_ATTEMPTS             tries of a failing unit before the job fails (3)
 * QUANTMESH_WORKER_ID                who did the work, in every event's timing (host:pid)
 * </pre>
 */
public record MeshConfig(String bootstrapServers, String topicPrefix, String groupPrefix, Path storeRoot,
                         int concurrency, int maxAttempts, String workerId) {
    /** A dead consumer's partitions move to the others after this long (the broker's minimum by default). */
    static final int SESSION_TIMEOUT_MS = 6_000;
    /** One record may take this long (a large layer); past it the consumer is considered stuck and leaves. */
    static final int MAX_POLL_INTERVAL_MS = 3_600_000;

    public MeshConfig {
        if (topicPrefix == null) throw new IllegalArgumentException("topic prefix must not be null");
        if (groupPrefix == null) throw new IllegalArgumentException("group prefix must not be null");
        if (concurrency < 1 || concurrency > 256) {
            throw new IllegalArgumentException("concurrency must be 1..256, got " + concurrency);
        }
        if (maxAttempts < 1 || maxAttempts > 100) {
            throw new IllegalArgumentException("max attempts must be 1..100, got " + maxAttempts);
        }
        if (workerId == null || workerId.isBlank()) throw new IllegalArgumentException("worker id must not be blank");
    }

    public static MeshConfig fromEnv(Map<String, String> env) {
        return new MeshConfig(blankToNull(env.get("QUANTMESH_KAFKA_BOOTSTRAP_SERVERS")),
                env.getOrDefault("QUANTMESH_TOPIC_PREFIX", "quantmesh."),
                env.getOrDefault("QUANTMESH_GROUP_PREFIX", "quantmesh-"),
                env.get("QUANTMESH_STORE") == null || env.get("QUANTMESH_STORE").isBlank() ? null
                        : Path.of(env.get("QUANTMESH_STORE")),
                intVar(env, "QUANTMESH_CONCURRENCY", 1), intVar(env, "QUANTMESH_MAX_ATTEMPTS", 3),
                env.getOrDefault("QUANTMESH_WORKER_ID", defaultWorkerId(env)));
    }

    /** Fails with the variable and flag to set when the broker or the store is missing. */
    public MeshConfig requireComplete() {
        if (bootstrapServers == null || bootstrapServers.isBlank()) {
            throw new IllegalArgumentException("no Kafka bootstrap servers: set QUANTMESH_KAFKA_BOOTSTRAP_SERVERS or "
                    + "--kafka HOST:PORT");
        }
        if (storeRoot == null) throw new IllegalArgumentException("no artifact store: set QUANTMESH_STORE or --store DIR");
        return this;
    }

    public MeshConfig withBootstrapServers(String s) {
        return new MeshConfig(s, topicPrefix, groupPrefix, storeRoot, concurrency, maxAttempts, workerId);
    }

    public MeshConfig withStoreRoot(Path p) {
        return new MeshConfig(bootstrapServers, topicPrefix, groupPrefix, p, concurrency, maxAttempts, workerId);
    }

    public MeshConfig withConcurrency(int c) {
        return new MeshConfig(bootstrapServers, topicPrefix, groupPrefix, storeRoot, c, maxAttempts, workerId);
    }

    public MeshConfig withTopicPrefix(String p) {
        return new MeshConfig(bootstrapServers, p, groupPrefix, storeRoot, concurrency, maxAttempts, workerId);
    }

    public MeshConfig withWorkerId(String id) {
        return new MeshConfig(bootstrapServers, topicPrefix, groupPrefix, storeRoot, concurrency, maxAttempts, id);
    }

    public MeshConfig withMaxAttempts(int n) {
        return new MeshConfig(bootstrapServers, topicPrefix, groupPrefix, storeRoot, concurrency, n, workerId);
    }

    public String topic(Topic t) {
        return topicPrefix + t.suffix();
    }

    /** The consumer group of a stage, e.g. "quantmesh-quant-worker". */
    public String group(String stage) {
        return groupPrefix + stage;
    }

    /** String keys, protobuf bytes as values; idempotent with acks=all, so a send acknowledged is a send kept. */
    public Properties producerProperties() {
        Properties p = base();
        p.put(ProducerConfig.ACKS_CONFIG, "all");
        p.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, "true");
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, StringSerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        return p;
    }

    /**
     * One record per poll and manual commits (the runner commits after the record's effects are durable); a long
     * poll interval because one record can be a large layer; a short session so a killed worker's partitions move
     * on within seconds; cooperative rebalancing so a joining worker does not stop the others.
     */
    public Properties consumerProperties(String group) {
        Properties p = base();
        if (group != null) p.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        p.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, "1");
        p.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, Integer.toString(MAX_POLL_INTERVAL_MS));
        p.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS));
        p.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, Integer.toString(SESSION_TIMEOUT_MS / 4));
        p.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, StringDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        return p;
    }

    private Properties base() {
        requireComplete();
        Properties p = new Properties();
        p.put("bootstrap.servers", bootstrapServers);
        return p;
    }

    private static int intVar(Map<String, String> env, String name, int dflt) {
        String v = env.get(name);
        if (v == null || v.isBlank()) return dflt;
        try {
            return Integer.parseInt(v.strip());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be an integer, got '" + v + "'");
        }
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s.strip();
    }

    private static String defaultWorkerId(Map<String, String> env) {
        String host = env.getOrDefault("HOSTNAME", "localhost");
        return host + ":" + ProcessHandle.current().pid();
    }
}
