package io.quantmesh.kafka;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import kafka.tools.StorageTool;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Properties;
import java.util.stream.Stream;

/**
 * A real single-node Kafka (KRaft, {@code process.roles=broker,controller}) inside this JVM, on loopback. The
 * one-process mesh ({@code quantmesh mesh up}) and the tests run on it; a fleet points the same stages at a real
 * cluster. Internal topics get replication factor 1 (there is one node), {@code __consumer_offsets} one partition
 * and no initial rebalance delay, so it is ready in ~2 s and a consumer group forms at once.
 *
 * <p>{@link #stop()} then {@link #start()} restarts the broker on the same log directory and ports with its data
 * kept: the fault tests' broker restart. {@link #close()} stops it and deletes the log directory if this object
 * created it.
 */
public final class EmbeddedKafka implements AutoCloseable {
    private static final int NODE_ID = 1;

    private final Path logDir;
    private final boolean ownsLogDir;
    private int port;
    private int controllerPort;
    private KafkaRaftServer server;

    /** A broker on a fresh temporary log directory and free ports; deleted by {@link #close()}. */
    public EmbeddedKafka() throws IOException {
        this(Files.createTempDirectory("quantmesh-kafka-"), 0, true);
    }

    /**
     * A broker on {@code logDir} (formatted on first start, reused after) listening on {@code port} (0: a free
     * port, kept across restarts of this object).
     */
    public EmbeddedKafka(Path logDir, int port) {
        this(logDir, port, false);
    }

    private EmbeddedKafka(Path logDir, int port, boolean ownsLogDir) {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("kafka port must be 0..65535, got " + port);
        this.logDir = logDir.toAbsolutePath();
        this.port = port;
        this.ownsLogDir = ownsLogDir;
    }

    /** Formats the log directory if it is not yet, then starts the broker and waits until it serves. */
    public synchronized EmbeddedKafka start() throws IOException {
        if (server != null) return this;
        Files.createDirectories(logDir);
        if (port == 0) port = freePort();
        if (controllerPort == 0) controllerPort = freePort();
        Properties props = properties();
        if (!Files.exists(logDir.resolve("meta.properties"))) format(props);
        KafkaRaftServer s = new KafkaRaftServer(KafkaConfig.fromProps(props), Time.SYSTEM);
        try {
            s.startup(); // returns once the broker is registered and unfenced
        } catch (RuntimeException e) {
            s.shutdown();
            throw new IOException("embedded Kafka did not start on " + bootstrapServers() + ": " + e.getMessage(), e);
        }
        server = s;
        return this;
    }

    /** Stops the broker; the log directory and the ports stay, so {@link #start()} brings the same data back. */
    public synchronized void stop() {
        if (server == null) return;
        server.shutdown();
        server.awaitShutdown();
        server = null;
    }

    public synchronized boolean running() {
        return server != null;
    }

    /** {@code 127.0.0.1:PORT}; valid once started (and across restarts). */
    public synchronized String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    public synchronized int port() {
        return port;
    }

    public Path logDir() {
        return logDir;
    }

    @Override
    public void close() throws IOException {
        stop();
        if (ownsLogDir && Files.exists(logDir)) {
            try (Stream<Path> s = Files.walk(logDir)) {
                for (Path p : s.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
            }
        }
    }

    private Properties properties() {
        Properties p = new Properties();
        p.put("process.roles", "broker,controller");
        p.put("node.id", Integer.toString(NODE_ID));
        p.put("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", logDir.toString());
        // One node: every internal topic has one replica; one offsets partition keeps the start fast.
        p.put("offsets.topic.replication.factor", "1");
        p.put("offsets.topic.num.partitions", "1");
        p.put("transaction.state.log.replication.factor", "1");
        p.put("transaction.state.log.min.isr", "1");
        p.put("transaction.state.log.num.partitions", "1");
        p.put("share.coordinator.state.topic.replication.factor", "1");
        p.put("share.coordinator.state.topic.min.isr", "1");
        p.put("min.insync.replicas", "1");
        p.put("group.initial.rebalance.delay.ms", "0");
        // Topics are created on purpose (Topics.ensure) with their partition counts; a typo must not make one.
        p.put("auto.create.topics.enable", "false");
        p.put("num.partitions", "1");
        return p;
    }

    /** {@code kafka-storage format}: what an operator runs once before the first start of a KRaft node. */
    private void format(Properties props) throws IOException {
        Path config = Files.createTempFile("quantmesh-kafka-", ".properties");
        try {
            try (OutputStream out = Files.newOutputStream(config)) {
                props.store(out, "quantmesh embedded Kafka");
            }
            ByteArrayOutputStream log = new ByteArrayOutputStream();
            int rc;
            try (PrintStream ps = new PrintStream(log, true, StandardCharsets.UTF_8)) {
                rc = StorageTool.execute(new String[]{"format", "--config", config.toString(),
                        "--cluster-id", Uuid.randomUuid().toString(), "--ignore-formatted"}, ps);
            }
            if (rc != 0) {
                throw new IOException("formatting the Kafka log directory " + logDir + " failed: "
                        + log.toString(StandardCharsets.UTF_8).strip());
            }
        } finally {
            Files.deleteIfExists(config);
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            s.setReuseAddress(true);
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("no free loopback port", e);
        }
    }
}
