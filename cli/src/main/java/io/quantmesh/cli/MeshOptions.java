package io.quantmesh.cli;

import io.quantmesh.mesh.MeshConfig;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.nio.file.Path;

/**
 * {@code --kafka} and {@code --store} of the mesh commands, over the environment (MeshConfig's variables). Without
 * a broker from either, the {@code mesh.json} that {@code mesh up} wrote into the store names it.
 */
final class MeshOptions {
    /** The store a bare {@code quantmesh mesh up} uses (relative to the working directory). */
    static final Path DEFAULT_STORE = Path.of("quantmesh-store");

    @Option(names = "--kafka", paramLabel = "HOST:PORT",
            description = "Kafka bootstrap servers (env QUANTMESH_KAFKA_BOOTSTRAP_SERVERS; default: the store's mesh.json)")
    String kafka;

    @Option(names = "--store", paramLabel = "DIR",
            description = "artifact store root (env QUANTMESH_STORE; default: ./quantmesh-store)")
    Path store;

    /** Environment, then flags; the store defaults to ./quantmesh-store; not checked for completeness. */
    MeshConfig base() {
        MeshConfig cfg = MeshConfig.fromEnv(System.getenv());
        if (store != null) cfg = cfg.withStoreRoot(store);
        if (cfg.storeRoot() == null) cfg = cfg.withStoreRoot(DEFAULT_STORE);
        if (kafka != null) {
            if (kafka.isBlank()) throw new IllegalArgumentException("--kafka must be HOST:PORT");
            cfg = cfg.withBootstrapServers(kafka);
        }
        return cfg;
    }

    /** {@link #base()} completed from the store's mesh.json where no broker was given. */
    MeshConfig resolve() throws IOException {
        MeshConfig cfg = base();
        if (cfg.bootstrapServers() == null) {
            MeshFile f = MeshFile.read(cfg.storeRoot());
            if (f == null) {
                throw new IllegalArgumentException("no mesh found: start one with 'quantmesh mesh up --store "
                        + cfg.storeRoot() + "', or give --kafka HOST:PORT (or QUANTMESH_KAFKA_BOOTSTRAP_SERVERS)");
            }
            cfg = cfg.withBootstrapServers(f.bootstrapServers()).withTopicPrefix(f.topicPrefix());
        }
        return cfg.requireComplete();
    }
}
