package io.quantmesh.quant.grpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.quantmesh.proto.v1.QuantServiceGrpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs quant-svc: the {@link QuantGrpcService}, standard gRPC health and server reflection.
 *
 * <pre>java ... io.quantmesh.quant.grpc.QuantServer [--port=50053] [--artifact-root=DIR] [--max-message-bytes=N]</pre>
 * Defaults come from QUANTMESH_QUANT_PORT (50053) and QUANTMESH_ARTIFACTS (./artifacts).
 */
public final class QuantServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health;

    private QuantServer(Server server, HealthStatusManager health) {
        this.server = server;
        this.health = health;
    }

    /** Starts the service on {@code port} (0 picks a free one) over the artifact root. */
    public static QuantServer start(int port, Path artifactRoot, QuantGrpcService.Limits limits) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        Server server = ServerBuilder.forPort(port)
                .addService(new QuantGrpcService(artifactRoot, limits))
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .maxInboundMessageSize(limits.maxMessageBytes())
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(QuantServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        return new QuantServer(server, health);
    }

    public int port() {
        return server.getPort();
    }

    /** Graceful: health goes NOT_SERVING, running calls get 10 s to finish, then the rest are cancelled. */
    @Override
    public void close() throws InterruptedException {
        health.enterTerminalState();
        server.shutdown();
        if (!server.awaitTermination(10, TimeUnit.SECONDS)) server.shutdownNow();
    }

    /** Starts the server, says where it listens, and blocks until the JVM shuts down (which stops it cleanly). */
    public static void serve(int port, Path artifactRoot, QuantGrpcService.Limits limits)
            throws IOException, InterruptedException {
        QuantServer s = start(port, artifactRoot, limits);
        System.out.println("quant-svc listening on port " + s.port() + ", artifacts in " + artifactRoot.toAbsolutePath());
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            try {
                s.close();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }));
        s.server.awaitTermination();
    }

    public static void main(String[] args) throws Exception {
        int port;
        Path root = Path.of(System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"));
        QuantGrpcService.Limits d = QuantGrpcService.Limits.defaults();
        int maxMessage = d.maxMessageBytes();
        try {
            port = Integer.parseInt(System.getenv().getOrDefault("QUANTMESH_QUANT_PORT", "50053"));
            for (String a : args) {
                if (a.startsWith("--port=")) port = Integer.parseInt(a.substring(7));
                else if (a.startsWith("--artifact-root=")) root = Path.of(a.substring(16));
                else if (a.startsWith("--max-message-bytes=")) maxMessage = Integer.parseInt(a.substring(20));
                else {
                    System.err.println("quant-server: unknown argument " + a
                            + " (--port=N --artifact-root=DIR --max-message-bytes=N)");
                    System.exit(2);
                    return;
                }
            }
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, got " + port);
            serve(port, root, new QuantGrpcService.Limits(maxMessage, d.maxLayerBytes(), d.maxConcurrentJobs()));
        } catch (IllegalArgumentException | IOException e) {   // NumberFormatException included
            System.err.println("quant-server: " + e.getMessage());
            System.exit(2);
        }
    }
}
