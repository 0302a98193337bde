package io.quantmesh.calibration.grpc;

import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.mesh.grpc.StageServer;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs calibration-svc: the {@link CalibrationGrpcService}, on a {@link StageServer} (health, reflection, graceful close).
 *
 * <pre>java ... io.quantmesh.calibration.grpc.CalibrationServer [--port=50051] [--store=DIR] [--corpora=DIR]</pre>
 * Defaults come from QUANTMESH_CALIBRATION_PORT (50051), QUANTMESH_ARTIFACTS (./artifacts) and the shared
 * corpora (../shared/data/corpora, or QUANTMESH_SHARED/data/corpora).
 */
public final class CalibrationServer implements AutoCloseable {
    private final StageServer server;

    private CalibrationServer(StageServer server) {
        this.server = server;
    }

    /** Starts the service on {@code port} (0 picks a free one). */
    public static CalibrationServer start(int port, ArtifactStore store, Corpora corpora) throws IOException {
        HessianJob job = new HessianJob(corpora, HessianCollector.withDefaultBudget());
        return new CalibrationServer(StageServer.start("calibration-svc", port, 4 << 20,
                new CalibrationGrpcService(store, job, 1, 500), CalibrationServiceGrpc.SERVICE_NAME));
    }

    public int port() {
        return server.port();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
    }

    public static void main(String[] args) throws Exception {
        try {
            Map<String, String> f = StageServer.flags(args, Map.of(
                    "port", System.getenv().getOrDefault("QUANTMESH_CALIBRATION_PORT", "50051"),
                    "store", System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"),
                    "corpora", ""));
            Path store = Path.of(f.get("store"));
            Corpora corpora = f.get("corpora").isEmpty() ? Corpora.shared() : new Corpora(Path.of(f.get("corpora")));
            start(StageServer.intFlag(f, "port"), new ArtifactStore(store), corpora).server.serveUntilShutdown(store);
        } catch (IllegalArgumentException | IOException e) {
            StageServer.fail("calibration-server", e);
        }
    }
}
