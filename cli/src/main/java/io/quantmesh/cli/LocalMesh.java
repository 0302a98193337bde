package io.quantmesh.cli;

import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.grpc.CalibrationServer;
import io.quantmesh.codebook.grpc.CodebookGrpcService;
import io.quantmesh.codebook.grpc.CodebookServer;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.kafka.EmbeddedKafka;
import io.quantmesh.mesh.MeshConfig;
import io.quantmesh.mesh.StageRunner;
import io.quantmesh.mesh.Topics;
import io.quantmesh.quant.grpc.QuantGrpcService;
import io.quantmesh.quant.grpc.QuantServer;
import org.apache.kafka.clients.admin.Admin;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The one-process mesh ({@code quantmesh mesh up}, the demo, the end-to-end test): an embedded KRaft broker with its
 * data in {@code <store>/.mesh/kafka} (kept across restarts, so {@code jobs} still lists old jobs), the topics, a
 * runner for every stage (the quant workers with {@code workers} consumers) and the stages' gRPC servers. It writes
 * {@code <store>/mesh.json} so the other commands find it.
 */
final class LocalMesh implements AutoCloseable {
    /** gRPC servers: calibration at base, codebook at base + 1, quant at base + 2; 0 = free ports; negative = none. */
    record Options(Path store, int kafkaPort, int workers, int grpcPortBase, Path corpora) {
        Options {
            if (workers < 1 || workers > 64) throw new IllegalArgumentException("--workers must be 1..64, got " + workers);
            if (kafkaPort < 0 || kafkaPort > 65535) {
                throw new IllegalArgumentException("--kafka-port must be 0..65535, got " + kafkaPort);
            }
            if (grpcPortBase > 65533) throw new IllegalArgumentException("--port-base must be at most 65533");
        }
    }

    private final EmbeddedKafka kafka;
    private final MeshConfig cfg;
    private final ArtifactStore store;
    private final List<StageRunner> runners;
    private final List<AutoCloseable> servers;
    private final Map<String, Integer> grpcPorts;

    private LocalMesh(EmbeddedKafka kafka, MeshConfig cfg, ArtifactStore store, List<StageRunner> runners,
                      List<AutoCloseable> servers, Map<String, Integer> grpcPorts) {
        this.kafka = kafka;
        this.cfg = cfg;
        this.store = store;
        this.runners = runners;
        this.servers = servers;
        this.grpcPorts = grpcPorts;
    }

    static LocalMesh start(Options o, MeshConfig env) throws Exception {
        ArtifactStore store = new ArtifactStore(o.store());
        int port = o.kafkaPort();
        if (port == 0) {
            // the port of the previous run on this store, so workers started with its address find it again
            MeshFile previous = readQuietly(store.root());
            if (previous != null && previous.kafkaPort() > 0) port = previous.kafkaPort();
        }
        EmbeddedKafka kafka = new EmbeddedKafka(store.root().resolve(".mesh/kafka"), port);
        try {
            kafka.start();
        } catch (IOException e) {
            if (port == o.kafkaPort()) throw e;
            kafka = new EmbeddedKafka(store.root().resolve(".mesh/kafka"), 0).start(); // the old port is taken
        }
        List<StageRunner> runners = List.of();
        List<AutoCloseable> servers = new ArrayList<>();
        try {
            MeshConfig cfg = env.withBootstrapServers(kafka.bootstrapServers()).withStoreRoot(store.root());
            try (Admin admin = Admin.create(Map.of("bootstrap.servers", kafka.bootstrapServers()))) {
                Topics.ensure(admin, cfg);
            }
            runners = MeshStages.start(List.of(MeshStages.values()), cfg, store, o.corpora(),
                    s -> s == MeshStages.QUANT_WORKER ? o.workers() : 1);
            Map<String, Integer> ports = new LinkedHashMap<>();
            if (o.grpcPortBase() >= 0) {
                int base = o.grpcPortBase();
                Corpora corpora = o.corpora() == null ? Corpora.shared() : new Corpora(o.corpora());
                CalibrationServer cal = CalibrationServer.start(base == 0 ? 0 : base, store, corpora);
                servers.add(cal);
                ports.put("calibration", cal.port());
                CodebookServer cb = CodebookServer.start(base == 0 ? 0 : base + 1, store.root(),
                        CodebookGrpcService.Limits.DEFAULT);
                servers.add(cb);
                ports.put("codebook", cb.port());
                QuantServer q = QuantServer.start(base == 0 ? 0 : base + 2, store.root(),
                        QuantGrpcService.Limits.defaults());
                servers.add(q);
                ports.put("quant", q.port());
            }
            new MeshFile(kafka.bootstrapServers(), cfg.topicPrefix(), ports, ProcessHandle.current().pid())
                    .write(store.root());
            return new LocalMesh(kafka, cfg, store, runners, servers, ports);
        } catch (Exception e) {
            MeshStages.close(runners);
            for (AutoCloseable s : servers) s.close();
            kafka.close();
            throw e;
        }
    }

    private static MeshFile readQuietly(Path store) {
        try {
            return MeshFile.read(store);
        } catch (IOException | RuntimeException e) {
            return null;
        }
    }

    MeshConfig config() {
        return cfg;
    }

    ArtifactStore store() {
        return store;
    }

    String bootstrapServers() {
        return kafka.bootstrapServers();
    }

    Map<String, Integer> grpcPorts() {
        return grpcPorts;
    }

    /** Stages first (uncommitted work is redone on the next start), then the servers, then the broker. */
    @Override
    public void close() throws Exception {
        MeshStages.close(runners);
        for (AutoCloseable s : servers) s.close();
        kafka.close(); // mesh.json stays: the next start on this store reuses its Kafka port
    }
}
