package io.quantmesh.cli;

import io.quantmesh.quant.grpc.QuantGrpcService;
import io.quantmesh.quant.grpc.QuantServer;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code quantmesh quant-server}: runs quant-svc (QuantService, health, reflection) until interrupted. */
@Command(name = "quant-server", mixinStandardHelpOptions = true,
        description = "Serve quantmesh.v1.QuantService (with gRPC health and reflection) over an artifact root.")
public final class QuantServerCommand implements Callable<Integer> {
    @Option(names = "--port", defaultValue = "50053", description = "TCP port, 0 for any free one (default ${DEFAULT-VALUE})")
    int port;

    @Option(names = "--artifact-root", defaultValue = "artifacts",
            description = "directory holding models, Hessians, codebooks and outputs (default ${DEFAULT-VALUE})")
    Path root;

    @Option(names = "--max-message-bytes", defaultValue = "67108864",
            description = "largest request or inline result; larger layers go by artifact URI (default ${DEFAULT-VALUE})")
    int maxMessageBytes;

    @Override
    public Integer call() throws Exception {
        if (port < 0 || port > 65535) throw new IllegalArgumentException("--port must be in [0, 65535]");
        if (maxMessageBytes < 1024) throw new IllegalArgumentException("--max-message-bytes must be >= 1024");
        QuantGrpcService.Limits d = QuantGrpcService.Limits.defaults();
        QuantServer.serve(port, root, new QuantGrpcService.Limits(maxMessageBytes, d.maxLayerBytes(), d.maxConcurrentJobs()));
        return 0;
    }
}
