package io.quantmesh.quant.grpc;

import io.quantmesh.mesh.grpc.StageServer;
import io.quantmesh.proto.v1.QuantServiceGrpc;

import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs quant-svc: the {@link QuantGrpcService} on a {@link StageServer} (health, reflection, graceful close).
 *
 * <pre>java ... io.quantmesh.quant.grpc.QuantServer [--port=50053] [--artifact-root=DIR] [--max-message-bytes=N]</pre>
 * Defaults come from QUANTMESH_QUANT_PORT (50053) and QUANTMESH_ARTIFACTS (./artifacts).
 */
public final class QuantServer implements AutoCloseable {
    private final StageServer server;

    private QuantServer(StageServer server) {
        this.server = server;
    }

    /** Starts the service on {@code port} (0 picks a free one) over the artifact root. */
    public static QuantServer start(int port, Path artifactRoot, QuantGrpcService.Limits limits) throws IOException {
        return new QuantServer(StageServer.start("quant-svc", port, limits.maxMessageBytes(),
                new QuantGrpcService(artifactRoot, limits), QuantServiceGrpc.SERVICE_NAME));
    }

    public int port() {
        return server.port();
    }

    @Override
    public void close() throws InterruptedException {
        server.close();
    }

    /** Starts the server, says where it listens, and blocks until the JVM shuts down (which stops it cleanly). */
    public static void serve(int port, Path artifactRoot, QuantGrpcService.Limits limits)
            throws IOException, InterruptedException {
        start(port, artifactRoot, limits).server.serveUntilShutdown(artifactRoot);
    }

    public static void main(String[] args) throws Exception {
        QuantGrpcService.Limits d = QuantGrpcService.Limits.defaults();
        try {
            Map<String, String> f = StageServer.flags(args, Map.of(
                    "port", System.getenv().getOrDefault("QUANTMESH_QUANT_PORT", "50053"),
                    "artifact-root", System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"),
                    "max-message-bytes", Integer.toString(d.maxMessageBytes())));
            serve(StageServer.intFlag(f, "port"), Path.of(f.get("artifact-root")), new QuantGrpcService.Limits(
                    StageServer.intFlag(f, "max-message-bytes"), d.maxLayerBytes(), d.maxConcurrentJobs()));
        } catch (IllegalArgumentException | IOException e) {
            StageServer.fail("quant-server", e);
        }
    }
}
