package io.quantmesh.cli;

import io.quantmesh.codebook.grpc.CodebookGrpcService;
import io.quantmesh.codebook.grpc.CodebookServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code quantmesh codebook-server}: runs codebook-svc (CodebookService, health, reflection) until interrupted. */
@Command(name = "codebook-server", mixinStandardHelpOptions = true,
        description = "Serve quantmesh.v1.CodebookService (with gRPC health and reflection) over an artifact store.")
public final class CodebookServerCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "50052", description = "TCP port, 0 for any free one (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--store", defaultValue = "artifacts", description = "artifact store root (default ${DEFAULT-VALUE})")
    Path store;

    @Option(names = "--max-inline-bytes", defaultValue = "16777216", description = "largest inline payload (default ${DEFAULT-VALUE})")
    long maxInlineBytes;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535]");
        if (maxInlineBytes < 1024 || maxInlineBytes > (512L << 20)) throw new IllegalArgumentException("--max-inline-bytes must be in [1 KiB, 512 MiB]");
        CodebookServer.serve(port, store,
                new CodebookGrpcService.Limits(maxInlineBytes, CodebookGrpcService.Limits.DEFAULT.maxArtifactFloats()));
        return 0;
    }
}
