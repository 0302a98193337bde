package io.quantmesh.codebook.grpc;

import io.quantmesh.codebook.CodebookCache;
import io.quantmesh.core.parallel.Parallel;
import io.quantmesh.mesh.grpc.StageServer;
import io.quantmesh.proto.v1.CodebookServiceGrpc;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * Runs codebook-svc: the {@link CodebookGrpcService}, standard gRPC health and server reflection.
 *
 * <pre>java ... io.quantmesh.codebook.grpc.CodebookServer [--port=50052] [--store=DIR] [--max-inline-bytes=N]</pre>
 * Defaults come from QUANTMESH_CODEBOOK_PORT (50052) and QUANTMESH_ARTIFACTS (./artifacts).
 */
public final class CodebookServer implements AutoCloseable {
    private final StageServer server;

    private CodebookServer(StageServer server) {
        this.server = server;
    }

    /** Starts the service on {@code port} (0 picks a free one) over the artifact store at {@code store}. */
    public static CodebookServer start(int port, Path store, CodebookGrpcService.Limits limits) throws IOException {
        CodebookGrpcService service = new CodebookGrpcService(new CodebookCache(store), limits, Parallel.common());
        // inline payloads above the limit must reach the service to get INVALID_ARGUMENT, so the transport allows more
        int maxMessage = (int) Math.min(Integer.MAX_VALUE, Math.max(limits.maxInlineBytes() * 2 + (1 << 20), 4 << 20));
        return new CodebookServer(StageServer.start("codebook-svc", port, maxMessage, service,
                CodebookServiceGrpc.SERVICE_NAME));
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
                    "port", System.getenv().getOrDefault("QUANTMESH_CODEBOOK_PORT", "50052"),
                    "store", System.getenv().getOrDefault("QUANTMESH_ARTIFACTS", "artifacts"),
                    "max-inline-bytes", Long.toString(CodebookGrpcService.Limits.DEFAULT.maxInlineBytes())));
            long maxInline;
            try {
                maxInline = Long.parseLong(f.get("max-inline-bytes"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("--max-inline-bytes must be a number, got '" + f.get("max-inline-bytes") + "'");
            }
            serve(StageServer.intFlag(f, "port"), Path.of(f.get("store")),
                    new CodebookGrpcService.Limits(maxInline, CodebookGrpcService.Limits.DEFAULT.maxArtifactFloats()));
        } catch (IllegalArgumentException | IOException e) {
            StageServer.fail("codebook-server", e);
        }
    }

    /** Starts the server, says where it listens, and blocks until the JVM shuts down (which stops it cleanly). */
    public static void serve(int port, Path store, CodebookGrpcService.Limits limits) throws IOException, InterruptedException {
        start(port, store, limits).server.serveUntilShutdown(store);
    }
}
