package io.quantmesh.codebook.grpc;

import io.grpc.Server;
import io.grpc.ServerBuilder;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.protobuf.services.HealthStatusManager;
import io.grpc.protobuf.services.ProtoReflectionServiceV1;
import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.proto.v1.CodebookServiceGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * Runs codebook-svc: the {@link CodebookGrpcService}, standard gRPC health and server reflection.
 *
 * <pre>java ... io.quantmesh.codebook.grpc.CodebookServer [--port=50052] [--store=DIR] [--max-inline-bytes=N]</pre>
 * Defaults come from QUANTMESH_CODEBOOK_PORT (50052) and QUANTMESH_ARTIFACTS (./artifacts).
 */
public final class CodebookServer implements AutoCloseable {
    private final Server server;
    private final HealthStatusManager health;

    private CodebookServer(Server server, HealthStatusManager health) {
        this.server = server;
        this.health = health;
    }

    /** Starts the service on {@code port} (0 picks a free one) over the artifact store at {@code store}. */
    public static CodebookServer start(int port, Path store, CodebookGrpcService.Limits limits) throws IOException {
        HealthStatusManager health = new HealthStatusManager();
        CodebookGrpcService service = new CodebookGrpcService(new CodebookCache(store), limits, Parallel.common());
        // inline payloads above the limit must reach the service to get INVALID_ARGUMENT, so the transport allows more
        int maxMessage = (int) Math.min(Integer.MAX_VALUE, Math.max(limits.maxInlineBytes() * 2 + (1 << 20), 4 << 20));
        Server server = ServerBuilder.forPort(port)
                .addService(service)
                .addService(health.getHealthService())
                .addService(ProtoReflectionServiceV1.newInstance())
                .maxInboundMessageSize(maxMessage)
                .build()
                .start();
        health.setStatus("", ServingStatus.SERVING);
        health.setStatus(CodebookServiceGrpc.SERVICE_NAME, ServingStatus.SERVING);
        return new CodebookServer(server, health);
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
        int port;
        Path store = Path.of(System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"));
        long maxInline = CodebookGrpcService.Limits.DEFAULT.maxInlineBytes();
        try {
            port = Integer.parseInt(System.getenv().getOrDefault("QUANTMESH_CODEBOOK_PORT", "50052"));
            for (String a : args) {
                if (a.startsWith("--port=")) port = Integer.parseInt(a.substring(7));
                else if (a.startsWith("--store=")) store = Path.of(a.substring(8));
                else if (a.startsWith("--max-inline-bytes=")) maxInline = Long.parseLong(a.substring(19));
                else {
                    System.err.println("codebook-server: unknown argument " + a + " (--port=N --store=DIR --max-inline-bytes=N)");
                    System.exit(2);
                    return;
                }
            }
        } catch (NumberFormatException e) {
            System.err.println("codebook-server: not a number: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (port < 0 || port > 65535) {
            System.err.println("codebook-server: port must be 0..65535, got " + port);
            System.exit(2);
        }
        serve(port, store, new CodebookGrpcService.Limits(maxInline, CodebookGrpcService.Limits.DEFAULT.maxArtifactFloats()));
    }

    /** Starts the server, says where it listens, and blocks until the JVM shuts down (which stops it cleanly). */
    public static void serve(int port, Path store, CodebookGrpcService.Limits limits) throws IOException, InterruptedException {
        CodebookServer s = start(port, store, limits);
        System.out.println("codebook-svc listening on port " + s.port() + ", artifacts in " + store.toAbsolutePath());
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
