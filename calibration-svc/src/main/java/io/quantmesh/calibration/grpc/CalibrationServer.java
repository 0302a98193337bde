package io.quantmesh.calibration.grpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.quantmesh.calibration.Corpora;
import io.quantmesh.calibration.HessianCollector;
import io.quantmesh.calibration.HessianJob;
import io.quantmesh.core.store.ArtifactStore;
import io.quantmesh.proto.v1.CalibrationServiceGrpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs calibration-svc: the {@link CalibrationGrpcService}, standard gRPC health and server reflection.
 *
 * <pre>java ... io.quantmesh.calibration.grpc.CalibrationServer [--port=50051] [--store=DIR] [--corpora=DIR]</pre>
 * Defaults come from QUANTMESH_CALIBRATION_PORT (50051), QUANTMESH_ARTIFACTS (./artifacts) and the shared
 * corpora (../shared/data/corpora, or QUANTMESH_SHARED/data/corpora).
 */
public final class CalibrationServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health;

    private CalibrationServer(Server server, HealthStatusManager health) {
        this.server = server;
        this.health = health;
    }

    /** Starts the service on {@code port} (0 picks a free one). */
    public static CalibrationServer start(int port, ArtifactStore store, Corpora corpora) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        HessianJob job = new HessianJob(corpora, HessianCollector.withDefaultBudget());
        Server server = ServerBuilder.forPort(port)
                .addService(new CalibrationGrpcService(store, job, 1, 500))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(CalibrationServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        return new CalibrationServer(server, health);
    }

    public int port() {
        return server.getPort();
    }

    public void awaitTermination() throws InterruptedException {
        server.awaitTermination();
    }

    @Override
    public void close() throws InterruptedException {
        health.enterTerminalState();
        server.shutdown();
        if (!server.awaitTermination(10, TimeUnit.SECONDS)) server.shutdownNow();
    }

    public static void main(String[] args) throws Exception {
        int port = Integer.parseInt(System.getenv().getOrDefault("QUANTMESH_CALIBRATION_PORT", "50051"));
        Path store = Path.of(System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"));
        Path corpora = null;
        for (String a : args) {
            if (a.startsWith("--port=")) port = Integer.parseInt(a.substring(7));
            else if (a.startsWith("--store=")) store = Path.of(a.substring(8));
            else if (a.startsWith("--corpora=")) corpora = Path.of(a.substring(10));
            else {
                System.err.println("calibration-server: unknown argument " + a
                        + " (--port=N --store=DIR --corpora=DIR)");
                System.exit(2);
            }
        }
        if (port < 0 || port > 65535) {
            System.err.println("calibration-server: port must be 0..65535, got " + port);
            System.exit(2);
        }
        CalibrationServer s;
        try {
            s = start(port, new ArtifactStore(store), corpora == null ? Corpora.shared() : new Corpora(corpora));
        } catch (IllegalArgumentException | IOException e) {
            System.err.println("calibration-server: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println("calibration-svc listening on port " + s.port() + ", artifacts in "
                + store.toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                s.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        s.awaitTermination();
    }
}
